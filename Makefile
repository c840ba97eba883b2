# The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
RELEASE := build/release
SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)

.PHONY: all deps release asan tsan run test test-release test-asan test-tsan format format-check bench clean

all: release

deps:
	@bash scripts/setup-deps

# The builds are CMakePresets.json's presets, each in build/<preset>.
release: deps
	cmake --preset release
	cmake --build --preset release

# ASan+UBSan with clang, which also builds the libFuzzer targets for the fuzz smoke.
asan: deps
	cmake --preset asan
	cmake --build --preset asan

# ThreadSanitizer over the multi-threaded parts: the async layer's tests, and the chat server,
# whose rooms span loops (its integration tests run the sockit binary built here).
tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan

# The main job: every service on loopback at port base 8000 (echo 8007, daytime 8013, qotd 8017,
# chat 8023, http 8080). Only the sockit program is built, in the release tree that make test
# builds whole.
run: deps
	cmake --preset release
	cmake --build --preset release --target sockit_cli
	$(RELEASE)/tools/sockit serve

test: format-check release asan tsan test-release test-asan test-tsan

test-release:
	ctest --preset release

test-asan:
	ctest --preset asan

test-tsan:
	ctest --preset tsan

format:
	clang-format -i $(SOURCES)

format-check: deps
	@clang-format --dry-run -Werror $(SOURCES) && echo "format: clean"

bench: release
	bash bench/run $(RELEASE)

clean:
	rm -rf build
