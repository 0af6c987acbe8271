"""UI of plant data onboarding: mapping editor, preview, load with progress, quarantine,
review list, load history and data quality. Pages call these; the work is in
`data_access.ingest` and `data_access.quality`. Every state change the app makes here is
written to the audit chain in the same transaction as the change."""

import io

import pandas as pd
import streamlit as st

from components.cached import LIVE_TTL_S, cache_query, plant_quality
from components.tables import table
from data_access import quality
from data_access.ingest import (
    SOURCES,
    IngestError,
    MappingError,
    load_file,
    map_code,
    parse_mapping_text,
    preview,
    queries,
    retry_quarantine,
)
from data_access.ingest import mapping as mappings
from data_access.ingest.sources import CODE_KIND_LABELS
from governance import audit

STATUS_ICONS = {
    "loaded": ":material/check_circle:",
    "partial": ":material/warning:",
    "nothing_loaded": ":material/block:",
    "failed": ":material/error:",
}


# --- cached reads (cleared after every change made here) ----------------------------------------


@cache_query(ttl=LIVE_TTL_S)
def _loads(engine, scope, plant_id=None):
    return queries.loads(engine, scope, plant_id)


@cache_query(ttl=LIVE_TTL_S)
def _quarantine(engine, scope, plant_id=None, source=None):
    return queries.open_quarantine(engine, scope, plant_id, source)


@cache_query(ttl=LIVE_TTL_S)
def _review(engine, scope, plant_id=None):
    return queries.review_list(engine, scope, plant_id)


@cache_query(ttl=LIVE_TTL_S)
def feed_quality(engine, scope):
    return quality.feed_quality(engine, scope)


def _changed():
    st.cache_data.clear()  # this page's reads, and the overview's marts and freshness


# --- audit hooks -----------------------------------------------------------------------------


def _audit_load(user, action):
    def hook(conn, result):
        audit.append(
            conn,
            user.username,
            action,
            plant_id=result.plant_id,
            entity="ingest_load",
            entity_id=result.load_id,
            detail={
                "source": result.source,
                "file_name": result.file_name,
                "status": result.status,
                "mapping_version": result.mapping_version,
                "rows_read": result.rows_read,
                "inserted": result.inserted,
                "replaced": result.replaced,
                "unchanged": result.unchanged,
                "quarantined": result.quarantined,
                "unmapped": result.unmapped,
                "removed": result.removed,
                "resolved": result.resolved,
            },
        )

    return hook


def _audit_code(user, plant_id):
    def hook(conn, detail):
        audit.append(
            conn,
            user.username,
            "data.map_code",
            plant_id=plant_id,
            entity="unmapped_code",
            entity_id=f"{detail['kind']}:{detail['local_code']}"[:64],
            detail=detail,
        )

    return hook


# --- widgets -----------------------------------------------------------------------------------


def _progress():
    bar = st.progress(0.0, text="Starting")

    def report(fraction, message):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return bar, report


def plant_and_source(plants: pd.DataFrame, key: str) -> tuple[str, str]:
    names = dict(zip(plants["plant_id"], plants["name"]))
    left, right = st.columns(2)
    plant_id = left.selectbox(
        "Plant", list(names), format_func=lambda p: f"{names[p]} ({p})", key=f"onboarding_{key}_plant"
    )
    source = right.selectbox(
        "Source", list(SOURCES), format_func=lambda s: SOURCES[s].label, key=f"onboarding_{key}_source"
    )
    return plant_id, source


def mapping_editor(engine, user, plant_id: str, source: str):
    """The mapping as YAML: the newest stored version (or a template), editable; the parsed
    Mapping, or None with the validation message shown."""
    versions = queries.mapping_versions(engine, user.scope, plant_id, source)
    if versions.empty:
        start = mappings.template(source, plant_id).to_yaml()
        st.caption(
            f"No mapping is stored for {plant_id} / {SOURCES[source].label} yet: a template maps "
            "every required field to a column of the same name. Edit it to match the export."
        )
    else:
        start = versions["yaml"].iloc[0]
        st.caption(
            f"Mapping version {versions['version'].iloc[0]} of {len(versions)}, stored "
            f"{versions['created_utc'].iloc[0]:%Y-%m-%d %H:%M} UTC by {versions['created_by'].iloc[0]}. "
            "An edited mapping is stored as the next version when a file is loaded with it."
        )
    text = st.text_area(
        "Mapping (YAML)",
        value=start,
        height=300,
        key=f"onboarding_mapping_{plant_id}_{source}",
        help="columns: canonical field -> the export's column; codes: local code -> "
        "canonical code; see docs/onboarding.md",
    )
    st.download_button(
        "Download mapping (YAML)",
        text.encode("utf-8"),
        file_name=f"{plant_id}_{source}.yaml",
        mime="application/x-yaml",
        key="onboarding_mapping_download",
        on_click="ignore",
        icon=":material/download:",
    )
    try:
        return parse_mapping_text(text, "the mapping")
    except MappingError as exc:
        st.error(str(exc), icon=":material/rule:")
        return None


def preview_table(engine, plant_id, source, mapping, upload) -> None:
    shown = preview(engine, plant_id, source, mapping, io.BytesIO(upload.getvalue()), upload.name)
    if shown.error:
        st.error(f"{upload.name} cannot be loaded with this mapping: {shown.error}", icon=":material/error:")
        return
    for note in shown.notes:
        st.caption(f"Note: {note}")
    counts = ", ".join(f"{n} {status}" for status, n in shown.counts.items())
    st.markdown(f"**Preview of the first {len(shown.rows)} rows** ({counts})")
    columns = {
        "row_number": st.column_config.NumberColumn("Row", help="line in the file or row in the sheet", format="%d"),
        "status": st.column_config.TextColumn("Would be"),
        "reason": st.column_config.TextColumn("Why not", width="large"),
    }
    columns.update({c: st.column_config.Column(c) for c in shown.rows.columns if c not in columns})
    table(
        shown.rows,
        key="onboarding_preview",
        file_name=f"preview_{upload.name}.csv",
        column_config=columns,
        empty_message="The file has no rows to preview.",
    )


def _guarded(run, what: str):
    """Run a load; a warehouse failure (or a bug) is shown in words, never as a traceback.
    The load is one transaction, so nothing of it was written."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - shown to the steward with the cause
        cause = getattr(exc, "orig", None) or exc
        st.error(
            f"{what} failed and nothing of it was written: {type(cause).__name__}: "
            f"{' '.join(str(cause).split())[:500]}",
            icon=":material/error:",
        )
        return None


def show_result(result) -> None:
    icon = STATUS_ICONS.get(result.status, ":material/info:")
    if result.status == "failed":
        st.error(f"Not loaded: {result.error}", icon=icon)
        return
    message = result.summary()
    if result.status == "loaded":
        st.success(message, icon=icon)
    elif result.status == "partial":
        st.warning(message + ". The quarantined rows are in the Quarantine tab with their reasons.", icon=icon)
    else:
        st.error(message + ". No row could be loaded: see the Quarantine tab.", icon=icon)
    for note in result.notes:
        st.caption(f"Note: {note}")
    if result.changed:
        st.caption(
            f"The worker now refreshes {result.plant_id}'s marts, forecasts and risk scores and raises its "
            "recommendations; the Jobs page shows the run."
        )
    if result.unmapped_codes:
        codes = "; ".join(
            f"{CODE_KIND_LABELS.get(k, k)} {c!r} ({n} rows)" for (k, c), n in result.unmapped_codes.items()
        )
        st.info(f"Unmapped codes wait in the Unmapped codes tab: {codes}", icon=":material/help:")


def load_section(engine, user, plants: pd.DataFrame) -> None:
    plant_id, source = plant_and_source(plants, "load")
    upload = st.file_uploader(
        "Plant export (CSV or Excel .xlsx)", type=["csv", "txt", "xlsx", "xlsm"], key="onboarding_file"
    )
    mapping = mapping_editor(engine, user, plant_id, source)
    if upload is None:
        st.info(
            "Upload a plant export to preview its first rows as they would be loaded.", icon=":material/upload_file:"
        )
        return
    if mapping is None:
        return
    preview_table(engine, plant_id, source, mapping, upload)
    if st.button("Load the file", key="onboarding_load", type="primary", icon=":material/upload:"):
        bar, report = _progress()
        result = _guarded(
            lambda: load_file(
                engine,
                plant_id,
                source,
                mapping,
                io.BytesIO(upload.getvalue()),
                file_name=upload.name,
                actor=user.username,
                progress=report,
                audit=_audit_load(user, "data.load"),
            ),
            "The load",
        )
        bar.empty()
        _changed()
        if result is not None:
            st.session_state["onboarding_last_result"] = result
    last = st.session_state.get("onboarding_last_result")
    if last is not None and last.file_name == upload.name and last.plant_id == plant_id and last.source == source:
        show_result(last)


def quarantine_section(engine, user, plants: pd.DataFrame) -> None:
    plant_id, source = plant_and_source(plants, "quarantine")
    held = _quarantine(engine, user.scope, plant_id, source)
    st.caption(
        "Rows that could not be loaded, with every reason. After fixing the mapping (or mapping "
        "the codes in the Unmapped codes tab), re-try them: rows that load now leave the list."
    )
    table(
        held,
        key="onboarding_quarantine",
        file_name=f"quarantine_{plant_id}_{source}.csv",
        column_config={
            "file_name": st.column_config.TextColumn("File"),
            "row_number": st.column_config.NumberColumn("Row", format="%d"),
            "category": st.column_config.TextColumn(
                "Kind",
                help="invalid: a wrong value; unmapped: a local code "
                "nobody mapped; conflict: the same key twice with other values; "
                "out_of_scope: another plant's row; unreadable: wrong field count",
            ),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "raw": st.column_config.TextColumn("Row as read", width="large"),
            "created_utc": st.column_config.DatetimeColumn("Quarantined (UTC)", format="YYYY-MM-DD HH:mm"),
        },
        empty_message=f"No quarantined rows for {plant_id} / {SOURCES[source].label}.",
    )
    if held.empty:
        return
    if st.button(
        f"Re-try these {len(held):,} rows with the current mapping", key="onboarding_retry", icon=":material/replay:"
    ):
        bar, report = _progress()
        result = _guarded(
            lambda: retry_quarantine(
                engine,
                plant_id,
                source,
                actor=user.username,
                progress=report,
                audit=_audit_load(user, "data.retry_quarantine"),
            ),
            "The re-try",
        )
        bar.empty()
        _changed()
        if result is not None:
            show_result(result)


def review_section(engine, user, plants: pd.DataFrame) -> None:
    codes = _review(engine, user.scope)
    st.caption(
        "Local codes no mapping knows yet. Map one to a canonical code: later loads and "
        "quarantine re-tries of that plant apply it. Every mapping is written to the audit trail."
    )
    table(
        codes,
        key="onboarding_review",
        file_name="unmapped_codes.csv",
        column_config={
            "plant_id": st.column_config.TextColumn("Plant"),
            "kind": st.column_config.TextColumn("Kind"),
            "local_code": st.column_config.TextColumn("Local code"),
            "source": st.column_config.TextColumn("Seen in"),
            "occurrences": st.column_config.NumberColumn(
                "Rows", help="rows with this code in the last load that saw it"
            ),
            "last_seen_utc": st.column_config.DatetimeColumn("Last seen (UTC)", format="YYYY-MM-DD HH:mm"),
        },
        empty_message="No unmapped codes: every local code seen so far is mapped.",
    )
    if codes.empty:
        return
    entries = list(codes[["plant_id", "kind", "local_code"]].itertuples(index=False, name=None))
    with st.form("onboarding_map_form"):
        entry = st.selectbox(
            "Code",
            entries,
            key="onboarding_map_entry",
            format_func=lambda e: f"{e[0]} - {CODE_KIND_LABELS.get(e[1], e[1])} {e[2]!r}",
        )
        options = queries.canonical_options(engine, user.scope, entry[0], entry[1]) if entry else {}
        target = st.selectbox(
            "Canonical code",
            list(options),
            format_func=options.get,
            key="onboarding_map_target",
            index=None,
            placeholder="Choose the canonical code",
        )
        submitted = st.form_submit_button("Map the code", icon=":material/link:")
    if submitted:
        if target is None:
            st.warning("Choose the canonical code first.")
            return
        plant_id, kind, local = entry
        try:
            map_code(engine, plant_id, kind, local, target, actor=user.username, audit=_audit_code(user, plant_id))
        except IngestError as exc:
            st.error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a warehouse failure is shown, not a traceback
            st.error(f"The code could not be mapped (nothing was changed): {type(exc).__name__}: {exc}")
            return
        _changed()
        st.success(
            f"{CODE_KIND_LABELS.get(kind, kind).capitalize()} {local!r} of {plant_id} now maps to {target}. "
            "Re-try the plant's quarantined rows to load them.",
            icon=":material/check_circle:",
        )


def history_section(engine, user) -> None:
    history = _loads(engine, user.scope)
    table(
        history,
        key="onboarding_history",
        file_name="loads.csv",
        column_config={
            "load_id": st.column_config.NumberColumn("Load", format="%d"),
            "plant_id": st.column_config.TextColumn("Plant"),
            "source": st.column_config.TextColumn("Source"),
            "file_name": st.column_config.TextColumn("File"),
            "status": st.column_config.TextColumn("Status"),
            "started_utc": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
            "actor": st.column_config.TextColumn("By"),
            "mapping_version": st.column_config.NumberColumn("Mapping", format="v%d"),
            "rows_read": st.column_config.NumberColumn("Read"),
            "inserted": st.column_config.NumberColumn("Loaded"),
            "replaced": st.column_config.NumberColumn("Replaced"),
            "unchanged": st.column_config.NumberColumn("Unchanged"),
            "quarantined": st.column_config.NumberColumn("Quarantined"),
            "message": st.column_config.TextColumn("Notes", width="large"),
        },
        empty_message="No file has been loaded through onboarding yet.",
    )


def quality_section(engine, user) -> None:
    plants = plant_quality(engine, user.scope)
    feeds = feed_quality(engine, user.scope)
    score = st.column_config.ProgressColumn("Score", min_value=0, max_value=100, format="%.0f")
    share = {"format": "percent"}
    st.subheader("Per plant")
    table(
        plants,
        key="quality_plants",
        file_name="data_quality_plants.csv",
        column_config={
            "plant_id": st.column_config.TextColumn("Plant"),
            "data_quality_score": score,
            "worst_source": st.column_config.TextColumn("Weakest feed"),
            "worst_score": st.column_config.NumberColumn("Its score", format="%.0f"),
            "stale_feeds": st.column_config.NumberColumn("Stale feeds"),
            "open_quarantine": st.column_config.NumberColumn("Quarantined rows"),
            "open_unmapped_codes": st.column_config.NumberColumn("Unmapped codes"),
        },
        empty_message="No plant in your scope yet.",
    )
    st.subheader("Per plant and feed")
    table(
        feeds,
        key="quality_feeds",
        file_name="data_quality_feeds.csv",
        column_config={
            "plant_id": st.column_config.TextColumn("Plant"),
            "source": st.column_config.TextColumn("Source"),
            "last_received_utc": st.column_config.DatetimeColumn("Last received (UTC)", format="YYYY-MM-DD HH:mm"),
            "expected_cadence_h": st.column_config.NumberColumn("Cadence (h)", format="%.0f"),
            "age_h": st.column_config.NumberColumn("Age (h)", format="%.0f"),
            "freshness": st.column_config.NumberColumn("Freshness", **share),
            "completeness": st.column_config.NumberColumn("Completeness", **share),
            "quarantine_rate": st.column_config.NumberColumn("Quarantined", **share),
            "unmapped_share": st.column_config.NumberColumn("Unmapped", **share),
            "score": score,
        },
        empty_message="No feed has reported for the plants in your scope yet.",
    )
