#!/bin/bash
# Train and export every shipped model, one after another, on QL_THREADS cores (default 1), at low priority; the
# classification ViTs also get their stress variants (tools/make_stress.py).
# Restartable: each model resumes from /root/.cache/quantlens/ckpt/<name>/last.pt; a model whose DONE marker
# and export exist is skipped; a model that is DONE but not exported is only exported.
#
#   nohup setsid bash tools/train_all.sh >/dev/null 2>&1 &
#
# Queue log: /root/.cache/quantlens/logs/train_all.log; per model <name>.log (progress), <name>.err (stderr),
# <name>.export.log. QL_MODELS="a b" restricts the queue. One queue per QL_QUEUE name runs at a time (flock), so
# two cores can train two models at once:
#   QL_QUEUE=a QL_MODELS=ddim-fmnist nohup setsid bash tools/train_all.sh >/dev/null 2>&1 &
#   QL_QUEUE=b QL_MODELS="deit-cifar10 swin-cifar10" nohup setsid bash tools/train_all.sh >/dev/null 2>&1 &
# Training runs at nice 19, so interactive work on the same machine keeps its speed.
#
# Measured on the 2-core dev machine, 1 thread, other work on the other core (batch 128):
#   fmnist-features 3.0 min/epoch x 5   deit-fmnist 11.3 min/epoch x 7   ddim-fmnist ~23 min/epoch x 8
#   deit-cifar10 11.5 min/epoch x 30    swin-cifar10 13.8 min/epoch x 60
set -u
cd "$(dirname "$0")/.."
CACHE=${QL_CACHE:-/root/.cache/quantlens}
export QL_THREADS=${QL_THREADS:-1}
export QL_CACHE=$CACHE
PY=/usr/bin/python3
mkdir -p "$CACHE/logs"
LOG=$CACHE/logs/train_all.log
log() { echo "$(date '+%F %T') $*" >> "$LOG"; }

# Classification ViTs also ship as stress variants (tools/make_stress.py: quantlens stress at opset 17 and 13,
# channel ranges measured by quantlens analyze); the manifest is rewritten afterwards to list them.
stress_variants() {
  case $1 in deit-*|swin-*) ;; *) return 0 ;; esac
  if nice -n 10 $PY tools/make_stress.py --model "$1" >>"$CACHE/logs/$1.export.log" 2>&1; then
    log "$1: stress variants written ($(tail -n 1 "$CACHE/logs/$1.export.log"))"
    $PY tools/make_manifest.py >>"$CACHE/logs/$1.export.log" 2>&1 && log "$1: manifest and card written with the stress variants"
  else
    log "$1: stress variants FAILED, see $CACHE/logs/$1.export.log"
  fi
}

LOCK=$CACHE/train_all${QL_QUEUE:+.$QL_QUEUE}.lock
exec 9>"$LOCK"
if ! flock -n 9; then
  log "another train_all.sh holds $LOCK; exiting"
  exit 1
fi

log "queue start (pid $$, threads $QL_THREADS, repo $(pwd))"
log "estimates: fmnist-features ~16 min, deit-fmnist ~85 min, ddim-fmnist ~3 h, deit-cifar10 ~6 h, swin-cifar10 ~14 h"
for m in ${QL_MODELS:-fmnist-features deit-fmnist deit-cifar10 ddim-fmnist swin-cifar10}; do
  done_marker=$CACHE/ckpt/$m/DONE
  if [ -f "$done_marker" ] && [ -f "models/$m.metrics.json" ] && [ "models/$m.metrics.json" -nt "$done_marker" ]; then
    log "$m: trained and exported; skipping"
    [ "models/$m-stress.json" -nt "models/$m.metrics.json" ] || stress_variants "$m"
    continue
  fi
  if [ ! -f "$done_marker" ]; then
    log "$m: training (progress in $CACHE/logs/$m.log)"
    if ! nice -n 19 $PY tools/train.py --model "$m" >/dev/null 2>>"$CACHE/logs/$m.err"; then
      log "$m: training FAILED, see $CACHE/logs/$m.err; going on with the next model"
      continue
    fi
  fi
  log "$m: exporting to models/"
  if nice -n 10 $PY tools/export.py --model "$m" >>"$CACHE/logs/$m.export.log" 2>&1; then
    log "$m: exported ($(tail -n 1 "$CACHE/logs/$m.export.log"))"
    $PY tools/make_manifest.py >>"$CACHE/logs/$m.export.log" 2>&1 && log "$m: manifest and card written"
    stress_variants "$m"
  else
    log "$m: export FAILED, see $CACHE/logs/$m.export.log"
  fi
done
log "queue end"
