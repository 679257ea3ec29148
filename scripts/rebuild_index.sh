#!/usr/bin/env bash
# Rebuild a searchidx index from corpus files, unattended.
#
#   scripts/rebuild_index.sh INDEX_DIR CORPUS_PATH [CORPUS_PATH ...]
#
# Logs with timestamps to stderr (and to $LOG_FILE if set). Exit codes: 0 rebuilt,
# 3 rebuilt but some records were rejected (listed in INDEX_DIR.rejects.jsonl),
# anything else: failed, and the previous index is still the live one (a rebuild
# is written beside it and only swapped in when complete).
# Environment: WORKERS (default: all cores), WAIT (seconds to wait for another writer),
# PYTHON (an interpreter with searchidx installed; default: the installed `searchidx`
# command if it is on PATH, else python3). Under cron, PATH is short: set PYTHON.
set -uo pipefail

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" | tee -a "${LOG_FILE:-/dev/null}" >&2; }

if [ "$#" -lt 2 ]; then
    log "usage: $0 INDEX_DIR CORPUS_PATH [CORPUS_PATH ...]"
    exit 2
fi
index_dir=$1
shift
for path in "$@"; do
    if [ ! -e "$path" ]; then
        log "error: corpus path $path does not exist; index left as it was"
        exit 2
    fi
done

if [ -n "${PYTHON:-}" ]; then
    searchidx=("$PYTHON" -m searchidx)
elif command -v searchidx >/dev/null; then
    searchidx=(searchidx)
else
    searchidx=(python3 -m searchidx)
fi
log "rebuilding $index_dir from: $*"
started=$(date +%s)
"${searchidx[@]}" index "$@" --index "$index_dir" --rebuild --quiet \
    --workers "${WORKERS:-$(nproc)}" --wait "${WAIT:-0}" \
    --rejects "$index_dir.rejects.jsonl" 2>&1 | tee -a "${LOG_FILE:-/dev/null}" >&2
status=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - started ))

case $status in
    0) log "done in ${elapsed}s" ;;
    3) log "done in ${elapsed}s, with rejected records: see $index_dir.rejects.jsonl" ;;
    *) log "FAILED (exit $status) after ${elapsed}s; the previous index is unchanged" ;;
esac
if [ "$status" -eq 0 ] || [ "$status" -eq 3 ]; then
    "${searchidx[@]}" stats --index "$index_dir" 2>&1 | tee -a "${LOG_FILE:-/dev/null}" >&2
fi
exit "$status"
