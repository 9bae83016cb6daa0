#!/usr/bin/env bash
# A one-node Slurm on localhost (munged, slurmctld, slurmd; the machine's CPUs), used to run a sweep as a real
# Slurm job array: the sweep's sbatch script is written by 'hmmrnn sweep slurm', submitted, waited for, collected,
# and its table compared with the same sweep run unsharded here. Then everything is torn down.
#
#   scripts/slurm-local.sh [EXPERIMENT] [WORKDIR]
#
# EXPERIMENT: an experiment file with a sweep grid (default: a tiny four-point sweep written into WORKDIR).
# WORKDIR: where the cluster's state, the logs and both sweeps go (default: a new temporary folder).
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge), root (or a user who may start munged),
# and a built hmmrnn (dotnet build src/Host -c Release; HMMRNN overrides the command, e.g. "dotnet path/hmmrnn.dll").
# Exit status 0 only if the array's collected table equals the unsharded one byte for byte.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$(mktemp -d /tmp/slurm-local.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
hmmrnn=${HMMRNN:-"dotnet $repo/src/Host/bin/Release/net10.0/hmmrnn.dll"}
for tool in munged slurmctld slurmd sbatch squeue; do
  command -v "$tool" > /dev/null || { echo "slurm-local: $tool not found; install slurm-wlm and munge" >&2; exit 3; }
done

experiment=${1:-}
if [ -z "$experiment" ]; then
  experiment=$work/tiny-sweep.json
  cat > "$experiment" << 'EOF'
{
  "name": "tiny-sweep",
  "description": "Four points that train in seconds: the Slurm round trip, not the science.",
  "task": "hmm",
  "hmm": "linear3",
  "model": { "input": 2 },
  "training": { "epochs": 2, "batch": 16, "trainSequences": 48, "validationSequences": 16, "testSequences": 300 },
  "evaluation": { "sequences": 300 },
  "analyses": ["evaluate"],
  "seeds": [0, 1],
  "sweep": { "model.hidden": [4, 6] }
}
EOF
fi

cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/log" "$work/munge"
export SLURM_CONF=$work/slurm.conf
cat > "$SLURM_CONF" << EOF
ClusterName=hmmrnn-local
SlurmctldHost=localhost
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeHostname=localhost CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

teardown() {
  set +e
  scancel --quiet -u "$(id -un)" 2> /dev/null
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2> /dev/null
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2> /dev/null
  [ -f "$work/munge/munged.pid" ] && kill "$(cat "$work/munge/munged.pid")" 2> /dev/null
  sleep 1
}
trap teardown EXIT

echo "slurm-local: starting munged, slurmctld, slurmd ($cpus CPUs) in $work"
munge_key=$work/munge/munge.key
if [ -r /etc/munge/munge.key ]; then cp /etc/munge/munge.key "$munge_key"; else mungekey --create --keyfile="$munge_key"; fi
chmod 600 "$munge_key"
munge_socket=$work/munge/munge.socket
munged --force --key-file="$munge_key" --socket="$munge_socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed"
# Slurm's munge plugins find the daemon through this socket (AuthInfo), clients and daemons alike.
sed -i "s|^AuthType=auth/munge|AuthType=auth/munge\nAuthInfo=socket=$munge_socket|" "$SLURM_CONF"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 1 30); do
  sinfo -h -o %T 2> /dev/null | grep -Eq '^idle' && break
  sleep 1
done
sinfo -h -o '%P %D %T %c' || { echo "slurm-local: the cluster did not come up; see $work/log" >&2; exit 1; }

echo "slurm-local: the sweep as a job array"
$hmmrnn sweep slurm "$experiment" --out "$work/array" --cpus 1 --time 00:30:00 --hmmrnn "$hmmrnn" > "$work/script-path"
script=$(cat "$work/script-path")
job=$(sbatch --parsable "$script")
echo "slurm-local: submitted job $job ($(grep -- '--array' "$script"))"
for _ in $(seq 1 600); do
  [ -z "$(squeue -h -j "$job" 2> /dev/null)" ] && break
  sleep 2
done
[ -z "$(squeue -h -j "$job" 2> /dev/null)" ] || { echo "slurm-local: job $job still queued or running after 20 minutes" >&2; exit 1; }
$hmmrnn sweep collect "$work/array" > /dev/null

echo "slurm-local: the same sweep unsharded, here"
$hmmrnn sweep "$experiment" --out "$work/whole" 2> "$work/log/whole.log"
$hmmrnn sweep collect "$work/whole" > /dev/null

if cmp -s "$work/array/sweep.csv" "$work/whole/sweep.csv"; then
  echo "slurm-local: the array's table equals the unsharded table ($(($(wc -l < "$work/whole/sweep.csv") - 1)) points)"
  cat "$work/array/sweep.md"
else
  echo "slurm-local: the tables differ" >&2
  diff "$work/array/sweep.csv" "$work/whole/sweep.csv" >&2 || true
  exit 1
fi
