"""Layers: bronze (raw, append-only), silver (validated), quarantine (rows with reasons)."""
