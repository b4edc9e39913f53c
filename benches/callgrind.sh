#!/usr/bin/env bash
# Instructions per run of one machine of benches/machines.rs, each way of
# writing it, counted by callgrind: a figure that does not drift with the
# load of a shared machine (docs/BENCHMARKS.md, "Lowering redesign: before").
#
#   bash benches/callgrind.sh [MACHINE] [MODE]    # default: chain pending
#
# Runs the bench binary under `valgrind --tool=callgrind` with
# `--filter MACHINE/MODE/WAY --runs N` for N = 1000 and 11000; per run is the
# difference over 10,000, so the set-up cancels. `machine_self` is the
# instructions per run in the way's own functions (`machines::machines::WAY::*`,
# what the optimizer left of the machine after inlining), the rest being the
# device, the completions and the allocator, the same code for every way.
set -euo pipefail
cd "$(dirname "$0")/.."

machine=${1:-chain}
mode=${2:-pending}
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }

bin=$(cargo bench --bench machines --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*"' | head -n1 | sed 's/^"executable":"//; s/"$//')
[ -x "$bin" ] || { echo "callgrind.sh: cannot find the machines bench binary" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Total instructions and the self instructions of the way's module, for N runs.
count() { # way module runs
  local file="$out/$1.$3"
  valgrind --tool=callgrind --callgrind-out-file="$file" "$bin" \
    --filter "$machine/$mode/$1" --runs "$3" >/dev/null 2>&1
  callgrind_annotate --threshold=100 "$file" | awk -v mod="machines::machines::$2::" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
    index($0, mod) && /\(.*%\)/ { v = $1; gsub(",", "", v); self += v }
    END { printf "%d %d\n", total, self }'
}

echo "callgrind: $machine/$mode, instructions per run ((runs=11000 - runs=1000) / 10000)"
printf '%-10s %10s %13s\n' way per_run machine_self
declare -A per_run
for pair in generated:generated hand:hand async:asynk diapause:dia; do
  way=${pair%%:*}
  module=${pair#*:}
  read -r t1 s1 < <(count "$way" "$module" 1000)
  read -r t2 s2 < <(count "$way" "$module" 11000)
  per_run[$way]=$(( (t2 - t1) / 10000 ))
  printf '%-10s %10d %13d\n' "$way" "${per_run[$way]}" $(( (s2 - s1) / 10000 ))
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "summary: instr_generated/hand=$(ratio "${per_run[generated]}" "${per_run[hand]}")" \
  "instr_generated/async=$(ratio "${per_run[generated]}" "${per_run[async]}")" \
  "instr_generated/diapause=$(ratio "${per_run[generated]}" "${per_run[diapause]}")"
