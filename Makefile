# The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
RELEASE := build/release
ASAN := build/asan
TSAN := build/tsan
GENERATOR := -G Ninja
SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)

.PHONY: all deps release asan tsan run test test-release test-asan test-tsan format format-check bench clean

all: release

deps:
	@bash scripts/setup-deps

release: deps
	cmake -S . -B $(RELEASE) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DSOCKIT_WERROR=ON \
	  -DSOCKIT_TESTS=ON -DSOCKIT_BENCH=ON
	cmake --build $(RELEASE)

# ASan+UBSan with clang, which also builds the libFuzzer targets for the fuzz smoke.
asan: deps
	CC=clang CXX=clang++ cmake -S . -B $(ASAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSOCKIT_WERROR=ON -DSOCKIT_SANITIZE=ON -DSOCKIT_FUZZ=ON -DSOCKIT_TESTS=ON -DSOCKIT_BENCH=OFF
	cmake --build $(ASAN)

# ThreadSanitizer over the multi-threaded parts: the async layer's tests, and the chat server,
# whose rooms span loops (its integration tests run the sockit binary built here).
tsan: deps
	CC=clang CXX=clang++ cmake -S . -B $(TSAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSOCKIT_WERROR=ON -DSOCKIT_TSAN=ON -DSOCKIT_BENCH=OFF
	cmake --build $(TSAN) --target async_tests sockit_cli

# The main job: every service on loopback at port base 8000 (echo 8007, daytime 8013, qotd 8017,
# chat 8023, http 8080).
run: release
	$(RELEASE)/tools/sockit serve

test: format-check release asan tsan test-release test-asan test-tsan

test-release:
	ctest --test-dir $(RELEASE) --output-on-failure --timeout 300 -j 2

test-asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN) --output-on-failure --timeout 600 -j 2

test-tsan:
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir $(TSAN) -R '^async\.|^integration\.chat' \
	  --output-on-failure --timeout 300

format:
	clang-format -i $(SOURCES)

format-check: deps
	@clang-format --dry-run -Werror $(SOURCES) && echo "format: clean"

bench: release
	bash bench/run $(RELEASE)

clean:
	rm -rf build
