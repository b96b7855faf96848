#!/usr/bin/env bash
# Start a throw-away single-node Slurm cluster with fake GPUs, for the CI test of the
# pipeline's Slurm profile (workflow/profiles/slurm-ci). Debian/Ubuntu, root, no systemd.
#
#   tests/slurm/slurm-up.sh            # then: sinfo, sbatch, snakemake --workflow-profile ...
#   tests/slurm/slurm-down.sh          # stops exactly the daemons this script started
#
# Environment:
#   RNNMEM_SLURM_DIR        state, logs, pid files, fake devices  (default /tmp/rnnmem-slurm)
#   RNNMEM_SLURM_GPUS       number of fake GPUs declared as GRES  (default 2; 0 = none)
#   RNNMEM_SLURM_PARTITION  name of the single partition          (default main)
#
# Running it twice is safe: it first stops the daemons of the previous run (by pid, via
# slurm-down.sh) and wipes the old state, so every start is a fresh cluster.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${RNNMEM_SLURM_DIR:-/tmp/rnnmem-slurm}
NGPU=${RNNMEM_SLURM_GPUS:-2}
PART=${RNNMEM_SLURM_PARTITION:-main}
PIDS="$DIR/daemons.pid" # "name pid" per line, read by slurm-down.sh

log() { echo "slurm-up: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, writes /etc/slurm)"
case $NGPU in '' | *[!0-9]*) die "RNNMEM_SLURM_GPUS must be a number, got '$NGPU'" ;; esac

# --- 1. packages (only if missing). Recommends would pull ~40 packages we do not need.
need=()
command -v slurmctld >/dev/null || need+=(slurmctld)
command -v slurmd >/dev/null || need+=(slurmd)
command -v sbatch >/dev/null || need+=(slurm-client)
command -v munged >/dev/null || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- 2. a fresh state dir (stale StateSaveLocation keeps a node DRAIN/INVAL forever).
"$HERE/slurm-down.sh" >/dev/null 2>&1 || true
rm -rf "${DIR:?}"
mkdir -p "$DIR"/{state,spool,log,dev,munge}

# The jobstep plugin strips SLURM_CONF from the job environment before its inner `srun`,
# so the config must be found at the default path /etc/slurm. Refuse to clobber a real one.
mkdir -p /etc/slurm
for f in slurm.conf gres.conf; do
  if [ -e "/etc/slurm/$f" ] && [ ! -L "/etc/slurm/$f" ]; then
    die "/etc/slurm/$f exists and is not ours (not a symlink); not overwriting it"
  fi
done

# --- 3. munge: our own key, socket, pid and log under $DIR, so a system munged (if any)
# is left alone. munged refuses to run as root and wants its files owned by its user
# (its log therefore lives in $DIR/munge, not $DIR/log).
MUNGE_USER=munge
id "$MUNGE_USER" >/dev/null 2>&1 || die "user '$MUNGE_USER' missing (munge package broken?)"
SOCKET="$DIR/munge/munge.socket"
mungekey --create --keyfile="$DIR/munge/munge.key" >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chown -R "$MUNGE_USER:$MUNGE_USER" "$DIR/munge"
chmod 755 "$DIR/munge" # slurm (root) and job users must reach the socket
chmod 400 "$DIR/munge/munge.key"
# munged checks that every parent of its socket is not writable by others (the sticky
# bit of /tmp is accepted); $DIR itself must therefore not be world-writable.
chmod 755 "$DIR"

# Daemons fork into the background and write a pid file; record "name pid" in $PIDS as
# soon as each one is up, so slurm-down.sh stops exactly these (even if a later step fails).
: >"$PIDS"
start_daemon() { # name pidfile command...
  local name=$1 pidfile=$2
  shift 2
  "$@" </dev/null || die "$name failed to start; see $DIR/log/ and $DIR/munge/"
  for _ in $(seq 1 50); do
    [ -s "$pidfile" ] && {
      echo "$name $(cat "$pidfile")" >>"$PIDS"
      return 0
    }
    sleep 0.2
  done
  die "$name wrote no pid file $pidfile; see $DIR/log/ and $DIR/munge/"
}
start_daemon munged "$DIR/munge/munged.pid" runuser -u "$MUNGE_USER" -- munged \
  --socket="$SOCKET" --key-file="$DIR/munge/munge.key" \
  --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/munged.seed" \
  --log-file="$DIR/munge/munged.log"

# --- 4. fake GPUs. gres/gpu wants File= to be a character device: make /dev/nvidiaN-like
# nodes (NVIDIA major 195); where mknod is not allowed, borrow harmless existing ones.
GRES_TYPES="" GRES_NODE=""
: >"$DIR/gres.conf"
if [ "$NGPU" -gt 0 ]; then
  fallback=(/dev/null /dev/zero /dev/full /dev/random /dev/urandom)
  host=$(hostname -s)
  for i in $(seq 0 $((NGPU - 1))); do
    dev="$DIR/dev/nvidia$i"
    if ! mknod "$dev" c 195 "$i" 2>/dev/null; then
      [ "$i" -lt ${#fallback[@]} ] || die "mknod not permitted and only ${#fallback[@]} fallback devices: use RNNMEM_SLURM_GPUS <= ${#fallback[@]}"
      log "mknod not permitted; fake GPU $i uses ${fallback[$i]}"
      dev=${fallback[$i]}
    fi
    echo "NodeName=$host Name=gpu Type=fake File=$dev" >>"$DIR/gres.conf"
  done
  GRES_TYPES="GresTypes=gpu"
  GRES_NODE="Gres=gpu:fake:$NGPU"
fi

# --- 5. slurm.conf. The node line comes from `slurmd -C` (real CPUs/sockets), with
# RealMemory lowered: a value above what slurmd measures puts the node in INVAL.
host=$(hostname -s)
mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
node=$(slurmd -C | head -1 | sed -E "s/RealMemory=[0-9]+/RealMemory=$((mem_mb * 9 / 10))/")
cat >"$DIR/slurm.conf" <<CONF
# Generated by tests/slurm/slurm-up.sh - a throw-away CI cluster; do not edit.
ClusterName=rnnmem-ci
SlurmctldHost=$host
# root everywhere: no slurm-owned directories to prepare
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# no cgroups in containers
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default, a job with no --mem takes the whole node and everything serializes
DefMemPerCPU=1024
# no slurmdbd: sacct cannot work, Snakemake must poll with squeue ...
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# ... and squeue only sees finished jobs for MinJobAge seconds. The plugin falls back to
# sacct when MinJobAge < 3 x its first polling interval, so keep this large.
MinJobAge=600
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
$GRES_TYPES
$node $GRES_NODE State=UNKNOWN
PartitionName=$PART Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
ln -sfn "$DIR/slurm.conf" /etc/slurm/slurm.conf
ln -sfn "$DIR/gres.conf" /etc/slurm/gres.conf

# --- 6. Slurm daemons (root, config from /etc/slurm).
start_daemon slurmctld "$DIR/slurmctld.pid" slurmctld
start_daemon slurmd "$DIR/slurmd.pid" slurmd

# --- 7. wait until the node is idle and a job step really runs.
state=""
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1)
  [ "$state" = idle ] && break
  sleep 0.5
done
if [ "$state" != idle ]; then
  sinfo -N -l >&2 || true
  tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  die "node state is '$state', not idle"
fi
timeout 30 srun -N1 -t 1 true || die "srun test job failed; see $DIR/log/"
sinfo -o "%P %a %D %t %N %G %c %m"
log "up: $(tr '\n' ' ' <"$PIDS")(state in $DIR)"
