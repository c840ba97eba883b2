# The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
RELEASE := build/release
ASAN := build/asan
GENERATOR := -G Ninja
SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)

.PHONY: all deps release asan run test test-release test-asan format format-check bench install clean

all: release

deps:
	@bash scripts/setup-deps

release: deps
	cmake -S . -B $(RELEASE) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DSOCKIT_WERROR=ON
	cmake --build $(RELEASE)

# ASan+UBSan with clang, which also builds the libFuzzer targets for the fuzz smoke.
asan: deps
	CC=clang CXX=clang++ cmake -S . -B $(ASAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSOCKIT_WERROR=ON -DSOCKIT_SANITIZE=ON -DSOCKIT_FUZZ=ON -DSOCKIT_BENCH=OFF
	cmake --build $(ASAN)

# The main job: every service on loopback at port base 8000 (echo 8007, daytime 8013, qotd 8017).
run: release
	$(RELEASE)/tools/sockit serve

test: format-check release asan test-release test-asan

test-release:
	ctest --test-dir $(RELEASE) --output-on-failure --timeout 300 -j 2

test-asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN) --output-on-failure --timeout 600 -j 2

format:
	clang-format -i $(SOURCES)

format-check: deps
	@clang-format --dry-run -Werror $(SOURCES) && echo "format: clean"

bench: release
	bash bench/run $(RELEASE)

clean:
	rm -rf build
