# Benchmarks (included by the Makefile). See bench/bench.py for what each part measures.
#   make bench                 all parts; prints the table and writes bench/results.md
#   make bench BENCH_ARGS='--parts cold --rounds 30'
#   make bench-profile         only the callgrind instruction counts (floor vs dagster-lua)
# make bench ends with bench/repl_start.py: the time to the REPL's first prompt on a pty,
# side by side with lua5.4 -i.
# DAGSTER_URL=... uses that deployment instead of starting one with scripts/dagster-up.
BENCH_FLOOR := build/bench/floor
BENCH_LAUNCH := build/bench/launch
BENCH_ARGS  ?=

.PHONY: bench bench-profile

$(BENCH_FLOOR): bench/floor.c
	@mkdir -p build/bench
	$(CC) $(CFLAGS) -std=c99 -Wall -Wextra -Werror $$(pkg-config --cflags lua5.4 libcurl) \
	  -o $@ bench/floor.c $$(pkg-config --libs lua5.4 libcurl)

$(BENCH_LAUNCH): bench/launch.c
	@mkdir -p build/bench
	$(CC) $(CFLAGS) -std=c99 -Wall -Wextra -Werror -o $@ bench/launch.c

bench: deps $(BIN) $(BENCH_FLOOR) $(BENCH_LAUNCH)
	@venv=$$(bash scripts/dagster-venv) && "$$venv/bin/python" bench/bench.py $(BENCH_ARGS)
	@python3 bench/repl_start.py --bin $(BIN)

bench-profile: deps $(BIN) $(BENCH_FLOOR) $(BENCH_LAUNCH)
	@venv=$$(bash scripts/dagster-venv) && "$$venv/bin/python" bench/bench.py --parts profile $(BENCH_ARGS)
