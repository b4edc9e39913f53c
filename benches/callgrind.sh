#!/usr/bin/env bash
# Instructions per run of one machine of benches/machines.rs, each way of
# writing it, counted by callgrind: a figure that does not drift with the
# load of a shared machine (docs/BENCHMARKS.md, "Lowering redesign: before").
#
#   bash benches/callgrind.sh [MACHINE] [MODE]    # default: chain pending
#   bash benches/callgrind.sh io [CASE...]        # iobench's read cases
#
# Runs the bench binary under `valgrind --tool=callgrind` with
# `--filter MACHINE/MODE/WAY --runs N` for N = 1000 and 11000; per run is the
# difference over 10,000, so the set-up cancels. `machine_self` is the
# instructions per run in the way's own functions (`machines::machines::WAY::*`,
# what the optimizer left of the machine after inlining), the rest being the
# device, the completions and the allocator, the same code for every way.
set -euo pipefail
cd "$(dirname "$0")/.."

# `io`: user-space instructions per 4 KiB cached random read of iobench's
# cases (ratchet's and the raw loops beside them), from runs of 2,048 and
# 22,528 reads (`--ops`): per read is the difference over 20,480, so the
# set-up (ring, file, buffers, page-cache check) cancels. Then, per ratchet
# case, the functions that take the most of it (self instructions per read,
# from the same difference). The kernel's work is not counted: callgrind
# sees user space only, which is what ratchet adds.
if [ "${1:-}" = io ]; then
  shift
  command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
  cases=("$@")
  [ ${#cases[@]} -gt 0 ] || cases=(raw_pread blocking_qd1 raw_uring_qd1 uring_qd1 raw_uring_qd32 uring_qd32)
  cargo build --release --example iobench >/dev/null 2>&1
  bin=target/release/examples/iobench
  dir=${IOBENCH_CG_DIR:-${TMPDIR:-/tmp}/ratchet-iobench-callgrind}
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  n1=2048
  n2=22528
  diff=$((n2 - n1))
  run() { # case ops
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2" "$bin" --quick --dir "$dir" \
      --size-mib 64 --only "$1" --ops "$2" >/dev/null 2>&1
    callgrind_annotate --threshold=100 "$out/$1.$2" >"$out/$1.$2.txt"
  }
  total() { awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' "$1"; }
  echo "callgrind: user-space instructions per read ((ops=$n2 - ops=$n1) / $diff)"
  declare -A per
  for c in "${cases[@]}"; do
    run "$c" "$n1"
    run "$c" "$n2"
    per[$c]=$(( ($(total "$out/$c.$n2.txt") - $(total "$out/$c.$n1.txt")) / diff ))
    printf '  %-16s %6d\n' "$c" "${per[$c]}"
  done
  for c in "${cases[@]}"; do
    case $c in raw_*) continue ;; esac
    echo
    echo "$c: self instructions per read, by function (>= 2)"
    awk -v d="$diff" '
      FNR == 1 { f++ }
      /\(.*%\)/ && NF >= 3 {
        v = $1; gsub(",", "", v)
        name = $0; sub(/^ *[0-9,]+ +\([^)]*\) +/, "", name); sub(/ \[[^]]*\]$/, "", name)
        if (f == 1) a[name] += v; else b[name] += v
      }
      END {
        for (k in b) { x = (b[k] - a[k]) / d; if (x >= 2) printf "  %7.1f  %s\n", x, k }
      }' "$out/$c.$n1.txt" "$out/$c.$n2.txt" | sort -rn | head -40
  done
  exit 0
fi

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
