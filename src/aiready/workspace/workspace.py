"""``Workspace``: the Python API over one ``aiready.yaml`` and its ``.aiready`` state."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from aiready import _env, retrieval
from aiready import drift as drift_checks
from aiready.certification import certify as certs
from aiready.config.models import DatasetConfig, ModelConfig, WorkspaceConfig, load_config
from aiready.config.paths import Paths
from aiready.contracts import (
    CompiledContract,
    LoadedContract,
    compile_contract,
    load_contract,
    refuse_if_strict,
)
from aiready.engines import GateEngine, get_engine
from aiready.errors import AireadyError, BatchStateError, ContractError, NotFoundError
from aiready.feedback import FeedbackStore, Stored, corrections
from aiready.feedback import report as feedback_report
from aiready.feedback.intake import Intake
from aiready.layers import applied, bronze, gold, silver
from aiready.layers import batches as batch_steps
from aiready.layers import rebuild as rebuilder
from aiready.layers.results import IngestResult, RefineResult, RunResult
from aiready.lineage import steps as lineage_steps
from aiready.lineage.graph import LineageGraph, load_runs
from aiready.lineage.refs import DatasetRef
from aiready.policy import Decision, PolicyEngine, audit, audit_verify
from aiready.policy.context import PolicyContext
from aiready.policy.engine import EngineCache
from aiready.storage import delta
from aiready.tracking import Tracker, evidence
from aiready.tracking.evidence import Evidence
from aiready.tracking.traces import Tracer

if TYPE_CHECKING:
    from aiready.lineage.events import LineageEmitter

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Step:
    """One running step: its MLflow run and its OpenLineage run."""

    step: str
    target: str
    run_id: str | None
    lineage_id: str


def find_root(start: Path) -> Path:
    """The nearest folder from ``start`` upwards with an ``aiready.yaml`` (else ``start``, so the
    error names the folder the user is in)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "aiready.yaml").is_file():
            return folder
    return start


class Workspace:
    """A folder with ``aiready.yaml``: datasets, contracts and the lake under ``.aiready/``."""

    def __init__(self, config: WorkspaceConfig, engine: str | None = None) -> None:
        self.config = config
        self.root = config.root
        self.paths = Paths(config.root)
        self.tracker = Tracker(config.name, self.paths)
        self.engine_config = (
            config.engine if engine is None else config.engine.model_copy(update={"name": engine})
        )
        self._gate: GateEngine | None = None
        self.evidence = Evidence(self.tracker, self.paths, self.engine_config.name)

    @classmethod
    def load(cls, path: str | Path | None = None, engine: str | None = None) -> Workspace:
        """Load the workspace at ``path`` (default: $AIREADY_WORKSPACE, else the nearest folder
        upwards from the current one that holds an ``aiready.yaml``, as git finds its repository).

        ``engine`` overrides aiready.yaml's ``engine:`` (duckdb or spark) for this process.
        """
        given = path or os.environ.get(_env.AIREADY_WORKSPACE)
        root = Path(given).resolve() if given else find_root(Path.cwd())
        return cls(load_config(root), engine)

    @property
    def engine(self) -> GateEngine:
        """The engine that runs gates and gold models (started on first use)."""
        if self._gate is None:
            self._gate = get_engine(
                self.engine_config.name, **self.engine_config.options(self.paths.state / "tmp")
            )
        return self._gate

    # -- datasets and contracts ------------------------------------------------------------------
    def dataset(self, name: str) -> DatasetConfig:
        try:
            return self.config.datasets[name]
        except KeyError as exc:
            raise NotFoundError(
                f"no dataset {name!r} in aiready.yaml; known: {sorted(self.config.datasets)}",
                dataset=name,
            ) from exc

    def _selected(self, name: str | None) -> list[DatasetConfig]:
        return [self.dataset(name)] if name else list(self.config.datasets.values())

    def contract(self, name: str) -> CompiledContract:
        """The compiled contract of dataset ``name`` (re-read each call: contracts get fixed)."""
        ds = self.dataset(name)
        compiled = compile_contract(
            load_contract(self.root / ds.contract), ds.name, ds.null_values, ds.integral_floats
        )
        for rule in compiled.rules:
            if rule.kind == "relationship" and rule.params["dataset"] not in self.config.datasets:
                raise ContractError(
                    f"relationship {rule.id} points at {rule.params['dataset']!r}, which is not "
                    f"a dataset of this workspace; known: {sorted(self.config.datasets)}",
                    file=compiled.path,
                    dataset=name,
                    rule=rule.id,
                )
        return compiled

    def _refine_order(self, selected: list[DatasetConfig]) -> list[DatasetConfig]:
        """Datasets a relationship points at are refined first, so the check sees their rows."""
        after: dict[str, set[str]] = {}
        for ds in selected:
            try:
                rules = self.contract(ds.name).rules
            except AireadyError:
                rules = ()  # its refine reports the error in place
            after[ds.name] = {r.params["dataset"] for r in rules if r.kind == "relationship"}
        order: list[DatasetConfig] = []
        placed: set[str] = set()

        def place(ds: DatasetConfig, seen: frozenset[str]) -> None:
            if ds.name in placed or ds.name in seen:
                return  # placed, or a cycle: config order decides
            for dep in sorted(after.get(ds.name, ())):
                if dep in after and dep != ds.name:
                    place(self.config.datasets[dep], seen | {ds.name})
            placed.add(ds.name)
            order.append(ds)

        for ds in selected:
            place(ds, frozenset())
        return order

    # -- steps -----------------------------------------------------------------------------------
    @cached_property
    def lineage(self) -> LineageEmitter:
        from aiready.lineage.events import LineageEmitter  # openlineage loads on first emit

        return LineageEmitter(self.config.name, self.paths.lineage, self.config.lineage)

    @contextmanager
    def _run(
        self, step: str, dataset: str | None, layer: str | None, parent: str | None
    ) -> Iterator[_Step]:
        run_id = self.tracker.start(step, dataset, layer, parent)
        target = dataset or "workspace"
        current = _Step(step, target, run_id, self.lineage.start(step, target, run_id))
        try:
            yield current
        except BaseException as exc:
            self.tracker.finish(run_id, ok=False)
            self._lineage(current, False, error=str(exc) or type(exc).__name__)
            raise

    def _lineage(
        self,
        step: _Step,
        ok: bool,
        io: tuple[list[DatasetRef], list[DatasetRef]] = ([], []),
        sql: str | None = None,
        error: str | None = None,
    ) -> None:
        self.lineage.finish(
            step.lineage_id,
            step.step,
            step.target,
            step.run_id,
            ok=ok,
            inputs=io[0],
            outputs=io[1],
            sql=sql,
            error=error,
        )

    def ingest(
        self,
        dataset: str | None = None,
        progress: Progress | None = None,
        parent_run: str | None = None,
        supersede: bool = False,
    ) -> list[IngestResult]:
        """Ingest new source files of one or all datasets into bronze; ``supersede``: a file
        that changed under the same name replaces its earlier batch (else ``on_changed_file``)."""
        results = []
        for ds in self._selected(dataset):
            if supersede:
                ds = ds.model_copy(update={"on_changed_file": "supersede"})
            with self._run("ingest", ds.name, "bronze", parent_run) as step:
                result = bronze.ingest(
                    self.paths, ds, progress, contract_columns=self._contract_columns(ds.name)
                )
                result.run_id = run_id = step.run_id
                self._supersede(ds, result)
                self.evidence.ingest(run_id, ds, result)
                self.tracker.finish(run_id, ok=not result.errors)
                io = lineage_steps.ingest(self.paths, self.root, result)
                errors = "; ".join(e["message"] for e in result.errors) or None
                self._lineage(step, not result.errors, io, error=errors)
            results.append(result)
        return results

    def _contract_columns(self, name: str) -> list[str]:
        """Names headers are matched to; a contract that does not compile yet maps nothing."""
        try:
            return [c.name for c in self.contract(name).columns]
        except AireadyError:
            return []

    def refine(
        self,
        dataset: str | None = None,
        replay_quarantine: bool = False,
        progress: Progress | None = None,
        parent_run: str | None = None,
        rebuild: bool = False,
        strict: bool = False,
    ) -> list[RefineResult]:
        """Refine pending bronze batches into silver + quarantine (and optionally replay).

        ``rebuild`` re-derives silver and quarantine from all of bronze under the current
        contract instead (the way out of a narrowing contract change). ``strict`` refuses a
        contract that declares anything aiready does not execute (a ContractError naming each).
        """
        results = []
        for ds in self._refine_order(self._selected(dataset)):
            contract = self.contract(ds.name)
            if strict:
                refuse_if_strict(contract.not_executed, contract.path)
            rebuild_ds = applied.needs_rebuild(self.paths, ds.name, contract) or rebuild
            step_name = "rebuild" if rebuild_ds else "refine"
            with self._run(step_name, ds.name, "silver", parent_run) as step:
                run_id = step.run_id
                bronze_version = delta.version(self.paths.table("bronze", ds.name))
                rebuilder.finish(self.paths, ds.name)  # a crashed rebuild's swap completes first
                result = (
                    rebuilder.rebuild(self.paths, ds, contract, progress, self.engine)
                    if rebuild_ds
                    else silver.refine(self.paths, ds, contract, progress, self.engine)
                )
                batch_steps.record_failed(self.paths, ds.name, result.pending)
                replay_from = None
                if replay_quarantine:
                    replay_from = delta.version(self.paths.table("quarantine", ds.name))
                    replay, replay_refine = silver.replay_quarantine(
                        self.paths, ds, contract, self.engine
                    )
                    result.replay = replay
                    result.reports.extend(replay_refine.reports)
                    result.schema_changes += replay_refine.schema_changes
                    result.silver_version = delta.version(self.paths.table("silver", ds.name))
                    result.quarantine_version = delta.version(
                        self.paths.table("quarantine", ds.name)
                    )
                result.run_id = run_id
                result.not_executed = [i.asdict() for i in contract.not_executed]
                self.evidence.refine(run_id, ds, contract, bronze_version, result)
                self.tracker.finish(run_id, ok=result.passed)
                io = lineage_steps.refine(contract, bronze_version, replay_from, result)
                failed = [
                    f"batch {r.batch_id}: gate failed" for r in result.reports if not r.passed
                ]
                self._lineage(step, result.passed, io, error="; ".join(failed) or None)
            results.append(result)
        return results

    def model(self, name: str) -> ModelConfig:
        try:
            return self.config.models[name]
        except KeyError as exc:
            raise NotFoundError(
                f"no model {name!r} in aiready.yaml; known: {sorted(self.config.models)}",
                model=name,
            ) from exc

    def model_contract(self, name: str) -> CompiledContract:
        return self._model_contract(name)[1]

    def _model_contract(self, name: str) -> tuple[LoadedContract, CompiledContract]:
        loaded = load_contract(self.root / self.model(name).contract)
        return loaded, compile_contract(loaded, name)

    def _policy_gaps(self, model: str) -> list[str]:
        """Why access.yaml leaves gold ``model`` less protected than its inputs."""
        from aiready.policy.access import access_rules
        from aiready.policy.protection import row_filter_gaps

        sql = gold.read_sql(self.root, self.model(model))
        return row_filter_gaps(self.config, access_rules(self.root, self.policy), model, sql)

    def model_order(self) -> list[str]:
        """Every model, upstream first (from the SQL's own table references)."""
        sqls = {m.name: gold.read_sql(self.root, m) for m in self.config.models.values()}
        return gold.model_order(self.config, sqls)

    def publish(
        self,
        model: str | None = None,
        progress: Progress | None = None,
        parent_run: str | None = None,
    ) -> list[gold.PublishResult]:
        """Publish one model (or all, in dependency order) to gold, all-or-nothing."""
        names = [self.model(model).name] if model else self.model_order()
        results = []
        for name in names:
            cfg = self.model(name)
            loaded, contract = self._model_contract(name)
            sql = gold.read_sql(self.root, cfg)
            if progress:
                progress(name)
            with self._run("publish", name, "gold", parent_run) as step:
                run_id = step.run_id
                result = gold.publish(self.paths, self.config, cfg, contract, sql, self.engine)
                result.run_id = run_id
                if result.published and result.gold_version is not None:
                    gate = {
                        "passed": True,
                        "contract_sha256": contract.sha256,
                        "rules": {r.rule: r.failed for r in result.report.rules}
                        if result.report
                        else {},
                    }
                    cert = certs.evaluate(
                        self.paths,
                        name,
                        result.gold_version,
                        contract,
                        loaded.raw,
                        gate,
                        result.inputs,
                        policy_gaps=self._policy_gaps(name),
                        as_of=self.model(name).as_of,
                    )
                    cert.corrections = self._new_corrections(name, result.inputs)
                    certs.record(self.paths, cert)
                    result.certified, result.certificate_reasons = cert.certified, cert.reasons
                    self._index(cfg, cert)
                    self.evidence.certificate(run_id, cert)
                self.evidence.publish(run_id, cfg, contract, result)
                self.tracker.finish(run_id, ok=result.published)
                io = lineage_steps.publish(
                    self.paths, name, sql, contract, result.inputs, result.gold_version, result.rows
                )
                error = "; ".join(result.reasons) or None
                self._lineage(step, result.published, io, sql=sql, error=error)
            results.append(result)
        return results

    def certify(
        self, model: str | None = None, parent_run: str | None = None
    ) -> list[certs.Certificate]:
        """Re-evaluate the current gold version of one model (or all): e.g. after an SLA lapse."""
        names = [self.model(model).name] if model else self.model_order()
        out = []
        for name in names:
            version = delta.version(self.paths.table("gold", name))
            if version is None:
                raise NotFoundError(
                    f"gold {name} has no published version: run `aiready publish {name}`",
                    model=name,
                )
            gate, inputs = self._published_evidence(name, version)
            loaded, contract = self._model_contract(name)
            with self._run("certify", name, "gold", parent_run) as step:
                run_id = step.run_id
                cert = certs.evaluate(
                    self.paths,
                    name,
                    version,
                    contract,
                    loaded.raw,
                    gate,
                    inputs,
                    policy_gaps=self._policy_gaps(name),
                    as_of=self.model(name).as_of,
                )
                certs.record(self.paths, cert)
                self._index(self.model(name), cert)
                self.evidence.certificate(run_id, cert)
                self.tracker.finish(run_id, ok=cert.certified)
                gold_ref = DatasetRef(name=f"gold.{name}", version=version)
                self._lineage(step, True, ([gold_ref], []))
            out.append(cert)
        return out

    def _published_evidence(self, name: str, version: int) -> tuple[dict[str, Any], dict[str, int]]:
        """Gate result and input versions of a gold version: from its publish-time certificate,
        or (after a crash between commit and certificate) from the gold commit's own metadata."""
        first = certs.first(self.paths, name, version)
        if first is not None:
            inputs = {k: int(v["version"]) for k, v in json.loads(first["inputs"]).items()}
            return json.loads(first["gate"]), inputs
        for entry in delta.history(self.paths.table("gold", name)):
            if entry.get("version") == version and "aiready.inputs" in entry:
                # a gold commit only happens after its gate passed
                gate = {"passed": True, "contract_sha256": entry.get("aiready.contract_sha256")}
                return gate, {k: int(v) for k, v in json.loads(entry["aiready.inputs"]).items()}
        raise NotFoundError(
            f"gold {name} v{version} was not written by aiready publish", model=name
        )

    def _new_corrections(self, model: str, inputs: dict[str, int]) -> list[str]:
        """Applied corrections on the model's silver inputs not listed on an earlier version."""
        datasets = [n.split(".", 1)[1] for n in inputs if n.startswith("silver.")]
        listed = {c for r in certs.history(self.paths, model) for c in r.get("corrections") or []}
        found = corrections.applied(self, datasets)
        return sorted(c["id"] for c in found if c["id"] not in listed)

    def feedback_report(self) -> dict[str, Any]:
        """Failure rates, unanswered-query groups, decision quality and rule suggestions; the
        rates are logged to MLflow as metrics, so they show as a time series across reports."""
        data = feedback_report.report(self)
        metrics = evidence.feedback_metrics(data)
        self._evidence("feedback", data, "feedback_report.json", metrics)
        return data

    def _evidence(
        self,
        step_name: str,
        data: Any,
        artifact: str,
        metrics: dict[str, float],
        params: dict[str, Any] | None = None,
        ok: bool = True,
    ) -> None:
        """One workspace-level evidence run: metrics (a time series) and a JSON artifact."""
        with self._run(step_name, None, None, None) as step:
            self.tracker.log(step.run_id, params=params or {}, metrics=metrics)
            self.tracker.log_json(step.run_id, data, artifact)
            self.tracker.finish(step.run_id, ok=ok)
            self._lineage(step, True)

    def review_correction(
        self, feedback_id: str, accept: bool, reviewer: str, note: str | None = None
    ) -> corrections.Review:
        """Accept (ingest as a bronze batch of its dataset) or reject a pending correction."""
        return corrections.review(self, feedback_id, accept, reviewer, note)

    def _index(self, model: ModelConfig, cert: certs.Certificate) -> None:
        """A newly certified version of a retrievable model gets its search index now."""
        if model.retrieval is not None and cert.certified:
            retrieval.build(self.paths, model, cert.gold_version)

    @cached_property
    def searcher(self) -> retrieval.Searcher:
        return retrieval.Searcher()

    def retrieve(
        self,
        query: str,
        principal: str,
        purpose: str,
        k: int = 10,
        datasets: list[str] | None = None,
        filters: dict[str, str] | None = None,
    ) -> retrieval.RetrieveResult:
        """Ranked records from certified gold under policy, with citations (see retrieval)."""
        return retrieval.retrieve(
            self._policy_context(), self.searcher, query, principal, purpose, k, datasets, filters
        )

    def drift(self, name: str) -> drift_checks.DriftResult:
        """Check a gold model's newest version (or a dataset's newest silver batch) for drift;
        the result is recorded, logged to MLflow (metrics + HTML report) and shown in status."""
        is_model = name in self.config.models
        if not is_model:
            self.dataset(name)
        with self._run("drift", name, "gold" if is_model else "silver", None) as step:
            result = drift_checks.check(self.paths, name, is_model)
            metrics = {f"drift.{c.column}": c.value for c in result.report.columns}
            metrics["drift.share"] = result.report.share
            metrics["drift.dataset_drifted"] = float(result.report.drifted)
            self.tracker.log(
                step.run_id,
                params={"reference": result.reference, "current": result.current},
                metrics=metrics,
                tags={"aiready.result": "drifted" if result.report.drifted else "passed"},
            )
            self.tracker.log_json(step.run_id, result.asdict(), "drift_report.json")
            self.tracker.log_text(step.run_id, drift_checks.render(result), "drift_report.html")
            self.tracker.finish(step.run_id, ok=not result.report.drifted)
            self._lineage(step, True)
        return result

    def behaviour_drift(self, window: timedelta = timedelta(days=1)) -> dict[str, Any]:
        """How AI use changed: the last ``window`` against the one before (see drift.behaviour);
        logged to MLflow as metrics, so the rates form a time series."""
        from aiready.drift.behaviour import behaviour

        data = behaviour(self.paths, window)
        metrics = {
            f"behaviour.{k}": float(v[1])
            for k, v in data.items()
            if k.endswith("_rate") and isinstance(v, list) and v[1] is not None
        }
        metrics["behaviour.drifted"] = float(bool(data["drifted"]))
        params = {"window": data["window"]}
        self._evidence(
            "behaviour", data, "behaviour_drift.json", metrics, params, not data["drifted"]
        )
        return data

    def score(self) -> dict[str, Any]:
        """The AI-readiness scorecard (see scorecard); each property is logged to MLflow as a
        metric, so the scores form a time series across runs of ``aiready score``."""
        from aiready.scorecard import score

        card = score(self)
        metrics = {f"score.{p}": v for p, v in card["workspace"]["scores"].items()}
        metrics["score.overall"] = card["workspace"]["overall"]
        for item in card["items"]:
            for prop, value in item["scores"].items():
                metrics[f"score.{item['name']}.{prop}"] = value
        self._evidence("score", card, "scorecard.json", metrics)
        return card

    def report(self, output: Path) -> Path:
        """Write the self-contained HTML report to ``output`` and log it to MLflow."""
        from aiready.scorecard.report import render

        card = self.score()
        page = render(self, card)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page, encoding="utf-8")
        with self._run("report", None, None, None) as step:
            self.tracker.log_text(step.run_id, page, "report.html")
            self.tracker.finish(step.run_id, ok=True)
            self._lineage(step, True)
        return output

    @cached_property
    def tracer(self) -> Tracer:
        return Tracer(self.config.name, self.paths)

    @cached_property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self.paths)

    @cached_property
    def intake(self) -> Intake:
        models = frozenset(self.config.models)
        return Intake(self.paths, self.policy, self.audit_path, self.feedback, self.tracer, models)

    def add_feedback(self, item: Any, principal: str, wait: bool = False) -> Stored:
        """Store feedback once per idempotency key, authorised and audited when it names a
        dataset, and attach it to its MLflow trace as an assessment."""
        return self.intake.add(item, principal, wait)

    def lineage_of(
        self,
        name: str,
        version: int | None = None,
        column: str | None = None,
        downstream: bool = False,
    ) -> dict[str, Any]:
        """Walk the lineage events from a dataset, model, ``layer.name`` or source file.

        Upstream (default) goes down to source files and bronze batches; downstream up to gold.
        """
        target, is_file = self._lineage_target(name)
        graph = LineageGraph(load_runs(self.paths.lineage))
        if downstream or is_file:
            return graph.downstream(target, None if is_file else version, column)
        if version is not None and not any(
            o.name == target and o.number == version for r in graph.runs for o in r.outputs
        ):
            raise NotFoundError(f"no lineage recorded for {target} version {version}", table=target)
        return graph.upstream(target, version, column)

    def _lineage_target(self, name: str) -> tuple[str, bool]:
        layer, _, rest = name.partition(".")
        if rest and layer in ("bronze", "silver", "quarantine", "gold"):
            return name, False
        if name in self.config.models:
            return f"gold.{name}", False
        if name in self.config.datasets:
            return f"silver.{name}", False
        path = (self.root / name).resolve()
        if path.is_file():
            return str(path), True
        raise NotFoundError(
            f"{name!r} is no dataset, model, layer.table or source file of this workspace",
            dataset=name,
        )

    def read_certified(self, model: str) -> pa.Table:
        """The newest certified, fresh gold version of ``model`` (Delta time travel)."""
        self.model(model)
        version = certs.certified_version(self.paths, model)
        dt = delta.table(self.paths.table("gold", model), version)
        if dt is None:
            raise NotFoundError(f"gold {model} version {version} is gone", model=model)
        table: pa.Table = dt.to_pyarrow_table()
        return table

    def load_contract_raw(self, relative: str) -> dict[str, Any]:
        """A contract as parsed YAML (validated), for its SLA properties."""
        return load_contract(self.root / relative).raw

    def vacuum(self, dry_run: bool = False) -> list[dict[str, Any]]:
        """Remove Delta files past each contract's retention SLA, keeping certified versions."""
        from aiready.workspace.vacuum import vacuum

        return vacuum(self, dry_run)

    @cached_property
    def _policy_cache(self) -> EngineCache:
        return EngineCache(self.config)

    @property
    def policy(self) -> PolicyEngine:
        """The Cedar engine over this workspace's policies and entities, as their files are now."""
        return self._policy_cache.current()

    @property
    def audit_path(self) -> Path:
        return self.paths.lake / "_audit"

    def _policy_context(self) -> PolicyContext:
        """What one governed request uses of this workspace, the engine as its files are now."""
        return PolicyContext(self.paths, self.config, self.policy, self.audit_path)

    def authorize(self, principal: str, action: str, resource: str, purpose: str) -> Decision:
        """Decide one request and append it to the audit log (allow and deny alike)."""
        decision = self.policy.decide(principal, action, resource, purpose)
        audit.append(self.audit_path, self.paths.locks, [decision])
        return decision

    def policy_resources(self) -> list[dict[str, Any]]:
        """Cedar Dataset and Column entities of this workspace (cached with the engine)."""
        resources: list[dict[str, Any]] = self.policy.resource_list
        return resources

    def query(self, sql: str, principal: str, purpose: str, limit: int | None = None) -> Any:
        """Run SQL under policy: authorised per table and column, filtered and masked, audited."""
        from aiready.policy.query import governed_query

        return governed_query(self._policy_context(), sql, principal, purpose, limit)

    def status_of_model(self, name: str) -> dict[str, Any]:
        from aiready.workspace.status import model_status

        return model_status(self, self.model(name).name)

    def context(self, name: str, principal: str, purpose: str) -> dict[str, Any]:
        """The AI-readable description of ``name`` as ``principal`` may see it for ``purpose``."""
        from aiready.catalog import context

        return context(self, name, principal, purpose)

    def scan_pii(self, name: str | None = None) -> list[Any]:
        """PII findings in silver datasets and current gold versions (samples)."""
        from aiready.catalog.pii import sample, scan_table

        names = [name] if name else [*self.config.datasets, *self.config.models]
        findings = []
        for n in names:
            layer = "silver" if n in self.config.datasets else "gold"
            contract = (
                self.config.datasets[n].contract if layer == "silver" else self.model(n).contract
            )
            ds = delta.dataset(self.paths.table(layer, n))  # type: ignore[arg-type]
            if ds is not None:
                findings += scan_table(n, sample(ds), self.load_contract_raw(contract))
        return findings

    def verify_audit(self) -> int:
        """Check the audit chain and head; returns the record count or raises AuditTampered."""
        return self.check_audit().records

    def check_audit(self, anchor: bool = False) -> audit_verify.Verified:
        """Check the audit chain against its head file; with ``anchor`` also against the newest
        MLflow anchor, then record the verified head there (``aiready audit verify``)."""
        from aiready.tracking import audit_anchor

        found = audit_anchor.newest(self.tracker) if anchor else None
        result = audit_verify.verify(self.audit_path, self.paths.locks, [found] if found else [])
        if anchor and result.head is not None and self.tracker.enabled:
            audit_anchor.record(self.tracker, result.head.asdict(), result.records)
        return result

    def audit_log(self) -> pa.Table | None:
        """Every audited decision (allow and deny) as a table, in ``seq`` order."""
        table = audit.read(self.audit_path, self.paths.locks)
        return None if table is None else table.sort_by("seq")

    def track_training(
        self, target: str, datasets: list[str], context: str = "training"
    ) -> dict[str, int]:
        """Record which certified gold versions the model at ``target`` was trained on."""
        from aiready.tracking.models import track_training

        return track_training(self, target, datasets, context)

    def check_model(self, target: str) -> Any:
        """Whether the model's gold data was certified at training time and still is."""
        from aiready.tracking.models import check_model

        return check_model(self, target)

    def run(self, progress: Progress | None = None) -> RunResult:
        """Ingest, refine and publish everything, under one parent MLflow run."""
        result = RunResult()
        parent = self.tracker.start("run")
        result.run_id = parent
        for ds in self.config.datasets.values():
            try:
                result.ingests.extend(self.ingest(ds.name, progress, parent))
                result.refines.extend(self.refine(ds.name, False, progress, parent))
            except AireadyError as exc:
                result.errors.append({**exc.attrs(), "dataset": ds.name})
        for ingest in result.ingests:
            result.errors.extend({**e, "dataset": ingest.dataset} for e in ingest.errors)
        if self.config.models:
            try:
                result.publishes.extend(self.publish(None, progress, parent))
            except AireadyError as exc:
                result.errors.append(exc.attrs())
        self.tracker.log(
            parent,
            metrics={
                "datasets": len(self.config.datasets),
                "gates_failed": sum(not r.passed for r in result.refines),
            },
            tags={"aiready.result": "passed" if result.passed else "failed"},
        )
        self.tracker.finish(parent, ok=result.passed)
        return result

    # -- review ----------------------------------------------------------------------------------
    def quarantine(
        self, dataset: str, reason: str | None = None, status: str | None = "open"
    ) -> list[dict[str, Any]]:
        """Quarantined rows of ``dataset`` as dicts (status ``None`` lists every status)."""
        self.dataset(dataset)
        rows: list[dict[str, Any]] = silver.list_quarantine(
            self.paths, dataset, reason, status
        ).to_pylist()
        return rows

    def quarantine_summary(self, dataset: str, status: str | None = "open") -> list[dict[str, Any]]:
        """Quarantined rows of ``dataset`` grouped by failed rule, with counts and examples."""
        from aiready.layers.figures import quarantine_summary

        self.dataset(dataset)
        return quarantine_summary(silver.list_quarantine(self.paths, dataset, None, status))

    def reject(
        self,
        dataset: str,
        by: str,
        reason: str | None = None,
        rows: list[tuple[str, int]] | None = None,
    ) -> int:
        """Mark open quarantined rows as rejected by reviewer ``by``; returns how many."""
        self.dataset(dataset)
        return silver.reject_quarantine(self.paths, dataset, by, reason, rows)

    # -- batches ---------------------------------------------------------------------------------
    def batches(self, dataset: str) -> list[batch_steps.BatchInfo]:
        """Every bronze batch of ``dataset``: file, sha256, rows, state, rows in each layer."""
        return batch_steps.listing(self.paths, self.dataset(dataset).name)

    def retract_batch(
        self, dataset: str, batch_id: str, by: str, reason: str | None = None
    ) -> batch_steps.BatchChange:
        """Take a batch's rows out of silver and quarantine (bronze keeps them); audited, with
        an MLflow run. Strategic data gets each key's previous row back (see layers.batches)."""
        return self._batch_step("retract", dataset, batch_id, by, reason)

    def supersede_batch(
        self, dataset: str, batch_id: str, new_batch: str, by: str, reason: str | None = None
    ) -> batch_steps.BatchChange:
        """Retract ``batch_id`` as superseded by the (ingested, open) batch ``new_batch``."""
        new = batch_steps.find(self.paths, self.dataset(dataset).name, new_batch)
        if new.batch_id in batch_steps.closed(self.paths, dataset):
            raise BatchStateError(
                f"batch {new.batch_id} is closed: it cannot supersede another",
                dataset=dataset,
                batch=new.batch_id,
            )
        return self._batch_step("supersede", dataset, batch_id, by, reason, new.batch_id)

    def abandon_batch(
        self, dataset: str, batch_id: str, by: str, reason: str | None = None
    ) -> batch_steps.BatchChange:
        """Never refine a failed (or pending) batch; bronze keeps it; audited, an MLflow run."""
        return self._batch_step("abandon", dataset, batch_id, by, reason)

    def _batch_step(
        self,
        step_name: str,
        dataset: str,
        batch_id: str,
        by: str,
        reason: str | None,
        new_batch: str | None = None,
        parent: str | None = None,
    ) -> batch_steps.BatchChange:
        ds = self.dataset(dataset)
        with self._run(step_name, ds.name, "silver", parent) as step:
            if step_name == "abandon":
                change = batch_steps.abandon(self.paths, ds, batch_id, by, reason)
            else:
                key = self.contract(ds.name).primary_key if ds.kind == "strategic" else ()
                change = batch_steps.retract(
                    self.paths, ds, batch_id, by, reason, tuple(key), new_batch
                )
            change.run_id = step.run_id
            self._audit_batch_change(change)
            self.evidence.batch_change(step.run_id, change)
            self.tracker.finish(step.run_id, ok=True)
            self._lineage(step, True)
        return change

    def _audit_batch_change(self, change: batch_steps.BatchChange) -> None:
        """A batch decision is a governance decision: it goes into the audit log once."""
        if not change.already:
            text = evidence.batch_summary(change)
            decision = Decision(
                change.by, f"batch.{change.state}", change.dataset, "", True, [], text
            )
            audit.append(self.audit_path, self.paths.locks, [decision])

    def _supersede(self, ds: DatasetConfig, result: IngestResult) -> None:
        """After ingest: retract the earlier batches each changed file supersedes (in that
        order, so a crash in between is finished by rerunning ``ingest --supersede``)."""
        for f in result.files:
            for old in f.supersedes:
                self._batch_step(
                    "supersede",
                    ds.name,
                    old,
                    "ingest --supersede",
                    f"{f.file} changed: its new content is batch {f.batch_id}",
                    f.batch_id,
                    result.run_id,
                )

    def status(self) -> dict[str, Any]:
        """Per dataset: rows per layer, open quarantine, batches, versions, owner, last runs."""
        from aiready.workspace.status import workspace_status

        return workspace_status(self)
