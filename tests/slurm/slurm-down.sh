#!/usr/bin/env bash
# Stop the Slurm/munge daemons that tests/slurm/slurm-up.sh started - exactly those
# processes, by the pids it recorded, never by name. Safe when nothing runs.
#
# Environment: RNNMEM_SLURM_DIR (default /tmp/rnnmem-slurm), as for slurm-up.sh.
# The state dir is kept (logs for post-mortems); slurm-up.sh wipes it on the next start.
set -u

DIR=${RNNMEM_SLURM_DIR:-/tmp/rnnmem-slurm}
PIDS="$DIR/daemons.pid"
[ -f "$PIDS" ] || {
  echo "slurm-down: nothing recorded in $PIDS; nothing to stop"
  exit 0
}

# True while pid is alive and still the daemon we recorded (guards against pid reuse).
ours() { [ -r "/proc/$2/comm" ] && [ "$(cat "/proc/$2/comm")" = "$1" ]; }

# Cancel jobs still queued or running on this throw-away cluster (their slurmstepd
# processes would outlive slurmd otherwise). Only possible while our slurmctld is alive.
while read -r n pid; do
  if [ "$n" = slurmctld ] && ours "$n" "$pid"; then
    jobs=$(timeout 10 squeue -h -o %i 2>/dev/null || true)
    [ -n "$jobs" ] && {
      echo "slurm-down: cancelling jobs $(echo $jobs)"
      timeout 10 scancel $jobs || true
      sleep 1
    }
  fi
done <"$PIDS"

# slurmd first (it reports to slurmctld), munged last (both daemons authenticate with it).
order=(slurmd slurmctld munged)
for name in "${order[@]}"; do
  while read -r n pid; do
    [ "$n" = "$name" ] && ours "$n" "$pid" && kill -TERM "$pid" 2>/dev/null && echo "slurm-down: stopping $n ($pid)"
  done <"$PIDS"
done

# Give them up to 10 s, then SIGKILL what is left of ours.
for _ in $(seq 1 50); do
  alive=0
  while read -r n pid; do ours "$n" "$pid" && alive=1; done <"$PIDS"
  [ $alive -eq 0 ] && break
  sleep 0.2
done
while read -r n pid; do
  ours "$n" "$pid" && {
    echo "slurm-down: $n ($pid) ignored SIGTERM; killing"
    kill -KILL "$pid" 2>/dev/null
  }
done <"$PIDS"

rm -f "$PIDS"
# Drop our /etc/slurm symlinks (leave anything else there alone).
for f in slurm.conf gres.conf; do
  [ -L "/etc/slurm/$f" ] && [ "$(readlink "/etc/slurm/$f")" = "$DIR/$f" ] && rm -f "/etc/slurm/$f"
done
exit 0
