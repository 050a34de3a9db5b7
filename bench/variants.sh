#!/usr/bin/env bash
# bench/variants.sh: what the start-up fixes proposed in bench/results.md would save, measured
# on throw-away builds in a temp dir (the tree is not touched):
#   base     the sources as they are (same flags as the Makefile)
#   noedit   without libedit (dgl_repl stubbed): the cost of linking libedit at start-up
#   bytecode the embedded modules as bytecode (string.dump, debug info kept; loaded with mode "b")
#   lazy     dagster.runs / dagster.workspace required on first use of a method they add
#   all      noedit + bytecode + lazy
# Prints callgrind instruction totals for `-e 'require("dagster").client(...)'` (no server
# needed) and, when DAGSTER_URL and BENCH_RUN_ID are set, for one get_run_status, next to
# bench/floor.c. usage: bash bench/variants.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/dagster-lua-variants.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cp -r "$root/host" "$root/lua" .

cat >embed_bc.lua <<'EOF'
local out = { '#include "dagster.h"', '' }
local entries = {}
for i, path in ipairs(arg) do
  local f = assert(io.open(path, "rb"))
  local src = f:read("a"); f:close()
  local rel = assert(path:match("lua/(.+)%.lua$"))
  local mod = rel:gsub("/init$", ""):gsub("/", ".")
  local bc = string.dump(assert(load(src, "@lua/" .. rel, "t")))
  local bytes = {}
  for j = 1, #bc do bytes[#bytes + 1] = tostring(bc:byte(j)) end
  bytes[#bytes + 1] = "0"
  out[#out + 1] = ("static const char src%d[] = {"):format(i)
  for j = 1, #bytes, 24 do out[#out + 1] = "  " .. table.concat(bytes, ",", j, math.min(j + 23, #bytes)) .. "," end
  out[#out + 1] = "};"
  entries[#entries + 1] = ('  {"%s", "%s", src%d, %d},'):format(mod, rel .. ".lua", i, #bc)
end
out[#out + 1] = "const dgl_Source dgl_sources[] = {"
for _, e in ipairs(entries) do out[#out + 1] = e end
out[#out + 1] = "  {NULL, NULL, NULL, 0}"
out[#out + 1] = "};"
io.write(table.concat(out, "\n"), "\n")
EOF
cat >repl_stub.c <<'EOF'
#include "lua.h"
#include "dagster.h"
void dgl_repl (lua_State *L) { (void)L; }
EOF

# lazy: replace the eager loop at the end of client.lua by a metatable that loads on a miss
mkdir -p lzsrc/dagster
cp lua/dagster/*.lua lzsrc/dagster/
lazy_ok=0
if python3 - lzsrc/dagster/client.lua <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
m = re.search(r'for _, name in ipairs (\{[^}]*\}) do\s*require\(name\)\(Client\)\s*end', s)
if not m:
    sys.exit(1)
lazy = ('local WORKFLOWS = %s\nsetmetatable(Client, { __index = function(_, k)\n'
        '  if rawget(Client, "_workflows_loaded") then return nil end\n'
        '  rawset(Client, "_workflows_loaded", true)\n'
        '  for _, name in ipairs(WORKFLOWS) do require(name)(Client) end\n'
        '  return rawget(Client, k)\nend })' % m.group(1))
open(p, "w").write(s[:m.start()] + lazy + s[m.end():])
EOF
then lazy_ok=1; fi

CF="-O2 -g -std=c99 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(pkg-config --cflags lua5.4 libcurl libedit) -Ihost"
LIBS="$(pkg-config --libs lua5.4 libcurl) -l:liblua5.4-cjson.so.0 -lm"
src=$(cd lua && find . -name '*.lua' | LC_ALL=C sort | sed 's|^\./|lua/|')
lua5.4 host/embed.lua $src >emb_src.c
lua5.4 embed_bc.lua $src >emb_bc.c
# host/embed.lua wants paths under lua/: build the lazy tree there in a sub dir
mkdir -p lz && cp -r lzsrc lz/lua && (cd lz && lua5.4 ../host/embed.lua $src >../emb_lazy.c && lua5.4 ../embed_bc.lua $src >../emb_lazy_bc.c)
sed 's/chunkname, "t")/chunkname, "b")/' host/run.c >run_bc.c
common="host/main.c host/lerror.c host/lhttp.c host/ljson.c"
gcc $CF -o base     $common host/run.c host/repl.c emb_src.c $LIBS -ledit
gcc $CF -o noedit   $common host/run.c repl_stub.c emb_src.c $LIBS
gcc $CF -o bytecode $common run_bc.c   host/repl.c emb_bc.c  $LIBS -ledit
variants="base noedit bytecode"
if [ "$lazy_ok" = 1 ]; then
  gcc $CF -o lazy $common host/run.c host/repl.c emb_lazy.c $LIBS -ledit
  gcc $CF -o all  $common run_bc.c   repl_stub.c emb_lazy_bc.c $LIBS
  variants="$variants lazy all"
else
  echo "variants: client.lua has no 'for ... require(name)(Client) end' loop; lazy variant skipped" >&2
  gcc $CF -o all  $common run_bc.c   repl_stub.c emb_bc.c $LIBS
  variants="$variants all"
fi

count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
live=0
if [ -n "${DAGSTER_URL:-}" ] && [ -n "${BENCH_RUN_ID:-}" ] && [ -x "$root/build/bench/floor" ]; then
  live=1
  payload=$tmp/payload.json
  ./base "$root/bench/payload.lua" "$BENCH_RUN_ID" >"$payload"
  floor_n=$(count "$root/build/bench/floor" "${DAGSTER_URL%/}/graphql" "$payload" 1)
fi
echo "Instructions (callgrind), each variant:"
echo
if [ "$live" = 1 ]; then
  echo "| variant | require + client, no call | one get_run_status | / floor (${floor_n}) |"
  echo "|---|---|---|---|"
else
  echo "| variant | require + client, no call |"
  echo "|---|---|"
fi
for v in $variants; do
  a=$(count ./$v -e 'require("dagster").client("http://127.0.0.1:1")')
  if [ "$live" = 1 ]; then
    b=$(count ./$v "$root/bench/one_status.lua" "$DAGSTER_URL" "$BENCH_RUN_ID")
    echo "| $v | $a | $b | $(awk -v b="$b" -v f="$floor_n" 'BEGIN { printf "%.2fx", b / f }') |"
  else
    echo "| $v | $a |"
  fi
done
echo
# paired timing: each round runs every variant and the floor back to back (bench/launch.c)
rounds=${VARIANT_ROUNDS:-15}
if [ "$live" = 1 ] && [ -x "$root/build/bench/launch" ] && [ "$rounds" -gt 0 ]; then
  python3 - "$root" "$DAGSTER_URL" "$BENCH_RUN_ID" "$payload" "$rounds" $variants <<'EOF2'
import statistics, subprocess, sys, tempfile, os
root, url, run_id, payload, rounds, variants = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
launch = os.path.join(root, "build", "bench", "launch")
cases = {v: ["./" + v, os.path.join(root, "bench", "one_status.lua"), url, run_id] for v in variants}
cases["floor"] = [os.path.join(root, "build", "bench", "floor"), url.rstrip("/") + "/graphql", payload, "1"]
res = {k: [] for k in cases}
fd, out = tempfile.mkstemp(); os.close(fd)
for r in range(rounds + 1):
    for k, argv in cases.items():
        subprocess.run([launch, out] + argv, stdout=subprocess.DEVNULL, check=True)
        d = dict(x.split("=") for x in open(out).read().split())
        if r:
            res[k].append({"wall": float(d["wall"]), "cpu": float(d["user"]) + float(d["sys"]), "rss": float(d["maxrss_kib"])})
os.unlink(out)
print(f"Paired timing, one get_run_status, {rounds} rounds (medians of per-round ratios to the floor):")
print()
print("| variant | wall / floor | CPU / floor | peak RSS / floor |")
print("|---|---|---|---|")
for v in variants:
    row = [statistics.median([a[k] / b[k] for a, b in zip(res[v], res["floor"])]) for k in ("wall", "cpu", "rss")]
    print(f"| {v} | " + " | ".join(f"{x:.3f}x" for x in row) + " |")
print()
EOF2
fi
