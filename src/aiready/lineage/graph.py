"""Walk the OpenLineage events of a workspace, version by version and column by column.

A Delta version holds what every earlier write put there, back to the last write that replaced the
whole table (gold publishes carry the ``OVERWRITE`` lifecycle facet). Bronze is followed by batch:
a refine names the bronze batches it read, an ingest names the batches (file, sha256) it wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiready.lineage.refs import FILE_NAMESPACE


@dataclass
class Ref:
    """A dataset as one event saw it."""

    namespace: str
    name: str
    version: str | None
    batches: list[dict[str, Any]]
    overwrite: bool
    columns: dict[str, list[tuple[str, str]]]

    @property
    def number(self) -> int | None:
        v = self.version
        return int(v) if v is not None and v.isdigit() else None


@dataclass
class Run:
    """One completed step: what it read and what it wrote."""

    id: str
    job: str
    time: str
    mlflow_run: str | None
    inputs: list[Ref] = field(default_factory=list)
    outputs: list[Ref] = field(default_factory=list)

    def head(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "run_id": self.id,
            "time": self.time,
            "mlflow_run": self.mlflow_run,
        }


def _ref(raw: dict[str, Any]) -> Ref:
    facets = raw.get("facets") or {}
    version = (facets.get("version") or {}).get("datasetVersion")
    lifecycle = (facets.get("lifecycleStateChange") or {}).get("lifecycleStateChange")
    columns = {
        out: [(f["name"], f["field"]) for f in spec.get("inputFields", [])]
        for out, spec in ((facets.get("columnLineage") or {}).get("fields") or {}).items()
    }
    return Ref(
        namespace=raw["namespace"],
        name=raw["name"],
        version=version,
        batches=list((facets.get("aiready_batches") or {}).get("batches") or []),
        overwrite=lifecycle == "OVERWRITE",
        columns=columns,
    )


def load_runs(folder: Path) -> list[Run]:
    """Completed runs, oldest first, from the event files (unreadable files are skipped)."""
    runs: list[Run] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a file another process is still writing
        if event.get("eventType") != "COMPLETE":
            continue
        facet = (event.get("run", {}).get("facets") or {}).get("aiready") or {}
        runs.append(
            Run(
                id=event["run"]["runId"],
                job=event["job"]["name"],
                time=event["eventTime"],
                mlflow_run=facet.get("mlflowRunId"),
                inputs=[_ref(d) for d in event.get("inputs") or []],
                outputs=[_ref(d) for d in event.get("outputs") or []],
            )
        )
    runs.sort(key=lambda r: r.time)
    return runs


class LineageGraph:
    """Upstream and downstream walks over a workspace's completed runs."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        self._seen: set[tuple[Any, ...]] = set()

    def _visit(self, key: tuple[Any, ...]) -> bool:
        """True when ``key`` was expanded before: each node is expanded once per graph."""
        if key in self._seen:
            return True
        self._seen.add(key)
        return False

    # -- which versions flow into which -------------------------------------------------------
    def _writes(self, name: str) -> list[tuple[Run, Ref]]:
        return [(r, o) for r in self.runs for o in r.outputs if o.name == name]

    def latest(self, name: str) -> int | None:
        numbers = [o.number for _, o in self._writes(name) if o.number is not None]
        return max(numbers) if numbers else None

    def producers(self, name: str, version: int | None) -> list[tuple[Run, Ref]]:
        """The writes whose rows are in ``name`` at ``version``: newest first, down to the last
        write that replaced the whole table."""
        version = self.latest(name) if version is None else version
        writes = sorted(
            ((r, o) for r, o in self._writes(name) if o.number is not None),
            key=lambda ro: ro[1].number or 0,
            reverse=True,
        )
        out = []
        for run, ref in writes:
            if version is None or (ref.number or 0) > version:
                continue
            out.append((run, ref))
            if ref.overwrite:
                break
        return out

    def _flows(self, name: str, written: int | None, read: int | None) -> bool:
        """Whether rows written at version ``written`` are still in the version ``read``."""
        if written is None or read is None:
            return True
        if read < written:
            return False
        return not any(
            o.overwrite and o.number is not None and written < o.number <= read
            for _, o in self._writes(name)
        )

    # -- upstream -----------------------------------------------------------------------------
    def upstream(
        self, name: str, version: int | None = None, column: str | None = None
    ) -> dict[str, Any]:
        """Everything ``name`` at ``version`` (latest if None) was made from, down to files."""
        version = self.latest(name) if version is None else version
        node: dict[str, Any] = {"dataset": name, "version": version, "column": column}
        if self._visit(("up", name, version, column)):
            node["shown_above"] = True  # already expanded elsewhere in this walk
            return node
        node["produced_by"] = [
            {**run.head(), "inputs": self._inputs(run, ref, column)}
            for run, ref in self.producers(name, version)
        ]
        return node

    def _inputs(self, run: Run, out: Ref, column: str | None) -> list[dict[str, Any]]:
        children: list[dict[str, Any]] = []
        for inp in run.inputs:
            for col in self._columns_from(out, inp, column):
                if inp.namespace == FILE_NAMESPACE:
                    if not out.batches or any(b.get("file") == inp.name for b in out.batches):
                        children.append(_file(inp, col, out.batches))
                elif inp.batches:
                    children.append(self._batches_upstream(inp, col))
                else:
                    children.append(self.upstream(inp.name, inp.number, col))
        return children

    @staticmethod
    def _columns_from(out: Ref, inp: Ref, column: str | None) -> list[str | None]:
        if column is None:
            return [None]
        if out.columns:
            return [c for ds, c in out.columns.get(column, []) if ds == inp.name]
        return [column]  # bronze → silver and file → bronze keep column names

    def _batches_upstream(self, inp: Ref, column: str | None) -> dict[str, Any]:
        wanted = {b["batch_id"] for b in inp.batches}
        produced_by = []
        for run, ref in self._writes(inp.name):
            mine = [b for b in ref.batches if b.get("batch_id") in wanted]
            if not mine:
                continue
            files = [i for i in run.inputs if any(b.get("file") == i.name for b in mine)]
            produced_by.append(
                {**run.head(), "inputs": [_file(f, column, mine) for f in files]},
            )
        return {
            "dataset": inp.name,
            "version": inp.number,
            "column": column,
            "batches": sorted(wanted),
            "produced_by": produced_by,
        }

    # -- downstream ---------------------------------------------------------------------------
    def downstream(
        self,
        name: str,
        version: int | str | None = None,
        column: str | None = None,
        batches: set[str] | None = None,
    ) -> dict[str, Any]:
        """Everything made from ``name`` at ``version`` (all versions if None)."""
        node: dict[str, Any] = {"dataset": name, "version": version, "column": column}
        if batches:
            node["batches"] = sorted(batches)
        if self._visit(("down", name, version, column, tuple(sorted(batches or ())))):
            node["shown_above"] = True
            return node
        node["consumed_by"] = []
        for run in self.runs:
            for inp in run.inputs:
                if inp.name != name or not self._reads(inp, version, batches):
                    continue
                outputs = []
                for out in run.outputs:
                    for col in self._columns_to(out, name, column):
                        mine = self._batches_of(
                            out, name if inp.namespace == FILE_NAMESPACE else None
                        )
                        outputs.append(self.downstream(out.name, out.number, col, mine))
                node["consumed_by"].append({**run.head(), "outputs": outputs})
        return node

    def _reads(self, inp: Ref, version: int | str | None, batches: set[str] | None) -> bool:
        if inp.namespace == FILE_NAMESPACE:
            return version is None or inp.version == version
        if batches is not None and inp.batches:
            return bool(batches & {b["batch_id"] for b in inp.batches})
        written = version if isinstance(version, int) else None
        return self._flows(inp.name, written, inp.number)

    @staticmethod
    def _columns_to(out: Ref, name: str, column: str | None) -> list[str | None]:
        if column is None:
            return [None]
        if out.columns:
            return [o for o, srcs in out.columns.items() if (name, column) in srcs]
        return [column]

    @staticmethod
    def _batches_of(out: Ref, file: str | None) -> set[str] | None:
        if not out.batches:
            return None
        return {b["batch_id"] for b in out.batches if file is None or b.get("file") == file}


def _file(inp: Ref, column: str | None, batches: list[dict[str, Any]]) -> dict[str, Any]:
    mine = [b for b in batches if b.get("file") == inp.name]
    return {
        "dataset": inp.name,
        "namespace": FILE_NAMESPACE,
        "sha256": inp.version,
        "column": column,
        "batches": [b["batch_id"] for b in mine],
    }
