"""OpenLineage RunEvents for every step, built with ``openlineage-python``.

Datasets live in namespace ``aiready://<workspace>`` and are named ``<layer>.<name>``; source files
use the spec's local-file naming (namespace ``file``, name = absolute path). Every dataset carries
its Delta version (or a source file's sha256) so lineage can be walked version by version.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from typing import Any

import attr
from openlineage.client import OpenLineageClient
from openlineage.client import event_v2 as ev
from openlineage.client import facet_v2 as fv
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from openlineage.client.transport.transport import Transport
from openlineage.client.uuid import generate_new_uuid

from aiready.config.models import LineageConfig
from aiready.lineage.refs import FILE_NAMESPACE, DatasetRef

log = logging.getLogger(__name__)

PRODUCER = f"https://pypi.org/project/aiready/{package_version('aiready')}"


@attr.define
class BatchesFacet(fv.DatasetFacet):
    """aiready's custom facet: the bronze batches a step wrote or read (file, sha256, rows)."""

    batches: list[dict[str, Any]] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return "urn:aiready:facet:BatchesFacet:1"


@attr.define
class AireadyRunFacet(fv.RunFacet):
    """aiready's custom run facet: the MLflow run holding this step's evidence."""

    step: str = ""
    target: str = ""
    mlflowRunId: str | None = None  # noqa: N815 (OpenLineage facets are camelCase)

    @staticmethod
    def _get_schema() -> str:
        return "urn:aiready:facet:AireadyRunFacet:1"


def _transports(config: LineageConfig, folder: os.PathLike[str]) -> list[Transport]:
    out: list[Transport] = []
    if config.transport == "none":
        return out
    # One file per event; the pid keeps concurrent processes from sharing a file name.
    prefix = os.path.join(os.fspath(folder), f"events-{os.getpid()}")
    out.append(FileTransport(FileConfig(log_file_path=prefix)))
    if config.transport == "http" and config.url:
        key = os.environ.get(config.api_key_env) if config.api_key_env else None
        auth = ApiKeyTokenProvider({"apiKey": key}) if key else None
        http = HttpConfig(url=config.url, endpoint=config.endpoint, timeout=5.0)
        if auth is not None:
            http.auth = auth
        http.retry = {"total": 2, "backoff_factor": 0.2, "status_forcelist": [500, 502, 503, 504]}
        out.append(HttpTransport(http))
    return out


class LineageEmitter:
    """Emits START and COMPLETE/FAIL events for a step; never lets lineage break a data step."""

    def __init__(self, workspace: str, folder: os.PathLike[str], config: LineageConfig) -> None:
        self.namespace = f"aiready://{workspace}"
        self.folder = folder
        self.config = config
        self._clients: list[OpenLineageClient] | None = None

    @property
    def clients(self) -> list[OpenLineageClient]:
        if self._clients is None:
            os.makedirs(self.folder, exist_ok=True)
            self._clients = [
                OpenLineageClient(transport=t) for t in _transports(self.config, self.folder)
            ]
        return self._clients

    def start(self, step: str, target: str, mlflow_run: str | None) -> str:
        run_id = str(generate_new_uuid())
        self._emit(ev.RunState.START, run_id, step, target, mlflow_run)
        return run_id

    def finish(
        self,
        run_id: str,
        step: str,
        target: str,
        mlflow_run: str | None,
        *,
        ok: bool,
        inputs: list[DatasetRef] = (),  # type: ignore[assignment]
        outputs: list[DatasetRef] = (),  # type: ignore[assignment]
        sql: str | None = None,
        error: str | None = None,
    ) -> None:
        state = ev.RunState.COMPLETE if ok else ev.RunState.FAIL
        self._emit(state, run_id, step, target, mlflow_run, inputs, outputs, sql, error)

    def _emit(
        self,
        state: ev.RunState,
        run_id: str,
        step: str,
        target: str,
        mlflow_run: str | None,
        inputs: list[DatasetRef] = (),  # type: ignore[assignment]
        outputs: list[DatasetRef] = (),  # type: ignore[assignment]
        sql: str | None = None,
        error: str | None = None,
    ) -> None:
        if not self.clients:
            return
        event = ev.RunEvent(
            eventType=state,
            eventTime=datetime.now(UTC).isoformat(),
            run=ev.Run(runId=run_id, facets=self._run_facets(step, target, mlflow_run, error)),
            job=ev.Job(namespace=self.namespace, name=f"{step}.{target}", facets=_job(step, sql)),
            inputs=[self._input(d) for d in inputs],
            outputs=[self._output(d) for d in outputs],
            producer=PRODUCER,
        )
        for client in self.clients:
            try:
                client.emit(event)
            except Exception as exc:  # noqa: BLE001 - lineage must not undo a committed step
                log.warning("lineage event for %s.%s not sent: %s", step, target, exc)

    def _run_facets(
        self, step: str, target: str, mlflow_run: str | None, error: str | None
    ) -> dict[str, Any]:
        facets: dict[str, Any] = {
            "aiready": AireadyRunFacet(
                step=step, target=target, mlflowRunId=mlflow_run, producer=PRODUCER
            ),
            "processing_engine": fv.processing_engine_run.ProcessingEngineRunFacet(
                version=package_version("aiready"),
                name="aiready",
                openlineageAdapterVersion=package_version("openlineage-python"),
                producer=PRODUCER,
            ),
        }
        if error:
            facets["errorMessage"] = fv.error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python", producer=PRODUCER
            )
        return facets

    def _facets(self, ref: DatasetRef) -> dict[str, Any]:
        facets: dict[str, Any] = {}
        if ref.version is not None:
            facets["version"] = fv.dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=str(ref.version), producer=PRODUCER
            )
        if ref.fields:
            facets["schema"] = fv.schema_dataset.SchemaDatasetFacet(
                fields=[
                    fv.schema_dataset.SchemaDatasetFacetFields(name=n, type=t)
                    for n, t in ref.fields
                ],
                producer=PRODUCER,
            )
        if ref.batches:
            facets["aiready_batches"] = BatchesFacet(batches=ref.batches, producer=PRODUCER)
        if ref.overwrite:
            change = fv.lifecycle_state_change_dataset.LifecycleStateChange.OVERWRITE
            facets["lifecycleStateChange"] = (
                fv.lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet(
                    lifecycleStateChange=change, producer=PRODUCER
                )
            )
        if ref.columns:
            facets["columnLineage"] = self._column_lineage(ref.columns)
        return facets

    def _column_lineage(self, columns: dict[str, list[tuple[str, str]]]) -> Any:
        cl = fv.column_lineage_dataset
        return cl.ColumnLineageDatasetFacet(
            fields={
                out: cl.Fields(
                    inputFields=[
                        cl.InputField(namespace=self.namespace, name=ds, field=col)
                        for ds, col in sources
                    ]
                )
                for out, sources in columns.items()
            },
            producer=PRODUCER,
        )

    def _input(self, ref: DatasetRef) -> ev.InputDataset:
        input_facets: dict[str, Any] = {}
        if ref.assertions:
            input_facets["dataQualityAssertions"] = (
                fv.data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
                    assertions=[Assertion(**a) for a in ref.assertions], producer=PRODUCER
                )
            )
        if ref.rows is not None:
            input_facets["dataQualityMetrics"] = (
                fv.data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
                    rowCount=ref.rows, columnMetrics={}, producer=PRODUCER
                )
            )
        return ev.InputDataset(
            namespace=ref.namespace or self.namespace,
            name=ref.name,
            facets=self._facets(ref),
            inputFacets=input_facets,
        )

    def _output(self, ref: DatasetRef) -> ev.OutputDataset:
        output_facets: dict[str, Any] = {}
        if ref.rows is not None:
            output_facets["outputStatistics"] = (
                fv.output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                    rowCount=ref.rows, producer=PRODUCER
                )
            )
        return ev.OutputDataset(
            namespace=ref.namespace or self.namespace,
            name=ref.name,
            facets=self._facets(ref),
            outputFacets=output_facets,
        )


def _job(step: str, sql: str | None) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "jobType": fv.job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="AIREADY", jobType=step.upper(), producer=PRODUCER
        )
    }
    if sql:
        facets["sql"] = fv.sql_job.SQLJobFacet(query=sql, dialect="duckdb", producer=PRODUCER)
    return facets


Assertion = fv.data_quality_assertions_dataset.Assertion
__all__ = ["FILE_NAMESPACE", "Assertion", "DatasetRef", "LineageEmitter"]  # refs re-exported
