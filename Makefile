# kafkaaggregator: one non-recursive GNU Makefile.
#
#   make              build ./kafkaaggregator with whatever agents/ holds
#   make check        unit, golden and integration tests
#   make demo         the whole pipeline on the embedded dev stack
#   make asan         the tests again under ASan+UBSan
#   make fuzz         every fuzz target for FUZZ_TIME seconds (tests/fuzz/README.md)
#   make bench        performance ratios (see README)
#   make soak         long fault rounds (30 SIGKILLs across the workers)
#   make format | format-check | lint | clean | deps
#
# BUILD and BIN may be overridden so that several builds (asan, a second
# checkout's tests) can live side by side.

VERSION := 0.1.0
BUILD   ?= build
.DEFAULT_GOAL := all
BIN     ?= kafkaaggregator
CC      ?= cc

PKGS      := rdkafka avro-c jansson libcurl yaml-0.1 libmicrohttpd
TEST_PKGS := cmocka

# Debian packages: what building needs, and what the tests and the demo add.
# `make` installs the first set when missing, `make check` and `make demo`
# both (see deps below).
BUILD_DEB_PKGS := gcc make pkg-config librdkafka-dev libavro-dev \
	libcurl4-openssl-dev libjansson-dev libyaml-dev libmicrohttpd-dev
# prometheus brings promtool, nodejs the deploy/ checks' Node.js (their npm
# packages go into $(BUILD)/npm: tests/it/lib-npm.sh).
TEST_DEB_PKGS := libcmocka-dev kcat curl clang-format cppcheck \
	docker-compose python3 python3-yaml prometheus nodejs clang \
	libclang-rt-14-dev
# `make fuzz` adds libFuzzer (the replay of `make check` does without).
FUZZ_DEB_PKGS := clang libclang-rt-14-dev libfuzzer-14-dev

# The full warning set of STYLE.md; the code carries all of it.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wconversion
# Tests use cmocka's macros, which do not survive -Wconversion.
TEST_WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter

CFLAGS ?= -O2 -g
# V=1 shows the commands.
Q := $(if $(V),,@)
# -ffp-contract=off: statistics reproduce CPython's IEEE operations bit for
# bit, and a fused multiply-add would round differently.
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -ffp-contract=off -MMD -MP \
	-DKA_VERSION='"$(VERSION)"'

# The layers, each seeing only its own headers and those below it (SPEC
# §2): a wrong #include is a build error. The data flows config -> schema
# -> template -> agent -> worker; tools/ holds the commands over all of
# them. Generated agents see the runtime alone.
LAYERS        := runtime worker generator devstack tools
INC_runtime   := -Iruntime
INC_worker    := -Iworker $(INC_runtime)
INC_generator := -Igenerator $(INC_runtime)
INC_devstack  := -Idevstack $(INC_runtime)
INC_tools     := -Itools -Iworker -Igenerator -Idevstack $(INC_runtime)
INC_agents    := $(INC_runtime)
# Tests look at every layer.
INC_tests     := $(INC_tools)

# pkg-config runs on first use (inside a recipe, after `deps` ran), not when
# the Makefile is read: on a fresh machine the libraries arrive with deps.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -lm -lpthread -ldl)$(PKG_LIBS)
TEST_CFLAGS = $(eval TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS)))$(TEST_CFLAGS)
TEST_LIBS = $(eval TEST_LIBS := $(shell pkg-config --libs $(TEST_PKGS)))$(TEST_LIBS)

# One static library per layer (tools/ without main.c, for the tests);
# listed so that each library comes before the ones it uses.
lib_of = $(BUILD)/libka-$(1).a
LIBS := $(foreach l,tools worker generator devstack runtime,$(call lib_of,$(l)))
RUNTIME_LIB := $(call lib_of,runtime)
layer_objs = $(patsubst %.c,$(BUILD)/%.o, \
	$(filter-out tools/main.c,$(wildcard $(1)/*.c)))
$(foreach l,$(LAYERS),$(eval $(call lib_of,$(l)): $(call layer_objs,$(l))))
$(foreach l,$(LAYERS),$(eval $(BUILD)/$(l)/%.o: INC := $(INC_$(l))))

# The generated agents compiled in; tests point it at their own.
AGENTS_DIR ?= agents
AGENT_SRCS := $(wildcard $(AGENTS_DIR)/*.c)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
IT_C_SRCS  := $(wildcard tests/it/*.c)
IT_C_BINS  := $(IT_C_SRCS:tests/it/%.c=$(BUILD)/tests/it/%)
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
TEST_HELPER_SRCS := $(wildcard tests/lib/*.c)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)

FORMAT_SRCS := $(wildcard $(LAYERS:%=%/*.[ch]) \
	tests/unit/*.[ch] tests/it/*.[ch] tests/lib/*.[ch] tests/tools/*.[ch] \
	tests/bench/*.[ch] tests/fuzz/*.[ch])

.PHONY: all deps deps-test deps-fuzz check demo asan bench soak format \
	format-check lint clean golden-update tests print-layers fuzz \
	fuzz-replay fuzz-bins fuzz-replay-bins

all: $(BIN)

# Installs missing Debian packages as root; otherwise prints the command.
define install_missing
	@missing=; for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
			grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else \
			echo "deps: missing Debian packages; run:" >&2; \
			echo "  sudo apt-get update && sudo apt-get install -y$$missing" >&2; \
			exit 1; \
		fi; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_DEB_PKGS))

deps-test: deps
	$(call install_missing,$(TEST_DEB_PKGS))

deps-fuzz: deps-test
	$(call install_missing,$(FUZZ_DEB_PKGS))

# INC is set per layer above; anything else (agents, golden files) gets
# the agents' view, the runtime alone.
INC = $(INC_agents)
COMPILE = $(CC) $(BASE_CFLAGS) $(INC) $(WARN) $(PKG_CFLAGS) $(CFLAGS) \
	$(EXTRA_CFLAGS)
$(BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(COMPILE) -c $< -o $@

# The templates built into libka-generator.a (ka_emit_builtins in
# generator/emit.h), so that generate-agents runs from any directory:
# each templates/*.mustache as a NUL-terminated byte array, written with
# od and awk (in every Debian base system).
TEMPLATE_SRCS := $(sort $(wildcard templates/*.mustache))
TEMPLATES_C   := $(BUILD)/generator/templates.c
$(call lib_of,generator): $(TEMPLATES_C:.c=.o)
$(TEMPLATES_C): $(TEMPLATE_SRCS) Makefile
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q){ \
	echo '/* Generated by make from templates/. DO NOT EDIT. */'; \
	echo '#include "emit.h"'; \
	n=0; for f in $(TEMPLATE_SRCS); do \
		echo "static const unsigned char t$$n[] = {"; \
		od -An -v -tx1 "$$f" | awk '{ s = ""; \
			for (i = 1; i <= NF; i++) s = s "0x" $$i ", "; \
			print s }'; \
		echo '0};'; \
		n=$$((n + 1)); \
	done; \
	echo 'const ka_emit_builtin_t ka_emit_builtins[] = {'; \
	n=0; for f in $(TEMPLATE_SRCS); do \
		echo "{\"$${f#templates/}\", (const char *)t$$n, sizeof(t$$n) - 1},"; \
		n=$$((n + 1)); \
	done; \
	echo '{0, 0, 0}};'; \
	} >$@.tmp && mv $@.tmp $@
$(TEMPLATES_C:.c=.o): $(TEMPLATES_C) | deps
	@echo "  CC      $<"
	$(Q)$(COMPILE) -c $< -o $@

# Generated decoders are long straight-line functions: tracking variables
# for the debug info costs seconds per large agent and buys little.
$(AGENT_OBJS): EXTRA_CFLAGS := -fno-var-tracking

$(BUILD)/libka-%.a:
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BIN): $(BUILD)/tools/main.o $(AGENT_OBJS) $(LIBS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BUILD)/tools/main.o \
		$(AGENT_OBJS) $(LIBS) $(PKG_LIBS)

TEST_CC = $(CC) $(BASE_CFLAGS) $(INC_tests) -Itests/lib $(TEST_WARN) \
	$(PKG_CFLAGS) $(TEST_CFLAGS) $(CFLAGS)

$(BUILD)/tests/lib/%.o: tests/lib/%.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(TEST_CC) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(LIBS) | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(TEST_CC) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIBS) \
		$(TEST_LIBS) $(PKG_LIBS)

$(BUILD)/tests/it/%: tests/it/%.c $(TEST_HELPER_OBJS) $(LIBS) | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(TEST_CC) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIBS) \
		$(TEST_LIBS) $(PKG_LIBS)

# Programs the integration tests run (not tests themselves): clients of
# the runtime, as agents are.
$(BUILD)/tests/tools/%: tests/tools/%.c $(RUNTIME_LIB) | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(INC_runtime) $(TEST_WARN) $(PKG_CFLAGS) \
		$(CFLAGS) $(LDFLAGS) -o $@ $< $(RUNTIME_LIB) $(PKG_LIBS)

# Pattern-built objects are kept, not deleted as intermediates.
.SECONDARY: $(TEST_HELPER_OBJS)

tests: $(BIN) $(UNIT_BINS) $(IT_C_BINS) $(TOOL_BINS)

check: deps-test
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory fuzz-replay
	@BUILD=$(BUILD) BIN=$(abspath $(BIN)) KA_CFLAGS="$(CFLAGS)" \
		KA_LDFLAGS="$(LDFLAGS)" FUZZ_BUILD=$(abspath $(FUZZ_BUILD)) \
		tests/run.sh

# The long rounds of the fault tests (their short rounds run in check).
soak: deps-test
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) BIN=$(abspath $(BIN)) KA_CFLAGS="$(CFLAGS)" \
		KA_LDFLAGS="$(LDFLAGS)" KA_SOAK_KILLS=$${KA_SOAK_KILLS:-30} \
		TESTS=0027 tests/run.sh

# ASan+UBSan build of everything in its own tree, then the same tests.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build-asan \
		BIN=build-asan/kafkaaggregator CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" check

demo: deps-test
	@$(MAKE) --no-print-directory all
	@BIN=$(abspath $(BIN)) MAKE="$(MAKE)" example/demo.sh

# Fuzzing (tests/fuzz/, tests/fuzz/README.md): a libFuzzer target per parser of
# untrusted input, built with clang, ASan and UBSan in their own tree,
# whatever CC and CFLAGS say; the same objects link with a standalone
# driver (tests/fuzz/replay.c) that `make check` runs over the committed
# corpora and past crashes (tests/it/0040-fuzz-replay.sh). `make fuzz`
# runs each target for FUZZ_TIME seconds (FUZZ=name,... picks targets).
FUZZ_BUILD  := build-fuzz
FUZZ_TIME   ?= 60
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
# -Wno-string-conversion: clang's name for the `assert(x || !"why")` idiom.
FUZZ_MAKE   := $(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	BIN=$(FUZZ_BUILD)/kafkaaggregator \
	CFLAGS="-O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -Wno-string-conversion" \
	LDFLAGS="$(FUZZ_SAN)"
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_HELPER_SRCS := tests/fuzz/common.c
GOLDEN_AGENT_SRCS := $(shell tests/fuzz/golden-agents.sh)
FUZZ_OBJS = $(FUZZ_HELPER_SRCS:%.c=$(BUILD)/%.o) \
	$(GOLDEN_AGENT_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/fuzz/golden_agents.o
FUZZ_CC = $(CC) $(BASE_CFLAGS) $(INC_tests) -Itests/fuzz $(TEST_WARN) \
	$(PKG_CFLAGS) $(CFLAGS)

fuzz-replay: deps-test
	+@$(FUZZ_MAKE) fuzz-replay-bins

fuzz: deps-fuzz
	+@$(FUZZ_MAKE) fuzz-bins
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh

# Inside $(FUZZ_MAKE) only.
fuzz-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
fuzz-replay-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)

$(BUILD)/fuzz/golden_agents.c: tests/fuzz/golden-agents.sh \
		$(wildcard tests/golden/*/expected/*.c)
	@mkdir -p $(@D)
	$(Q)tests/fuzz/golden-agents.sh --table >$@

$(BUILD)/fuzz/%.o: $(BUILD)/fuzz/%.c | deps
	$(Q)$(FUZZ_CC) -c $< -o $@

$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(FUZZ_CC) -c $< -o $@

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_OBJS) $(LIBS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIBS) \
		$(PKG_LIBS)

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o \
		$(BUILD)/tests/fuzz/replay.o $(FUZZ_OBJS) $(LIBS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o \
		$(FUZZ_OBJS) $(LIBS) $(PKG_LIBS)

.SECONDARY: $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/fuzz_%.o) $(FUZZ_OBJS) \
	$(BUILD)/tests/fuzz/replay.o

# `make bench` (SPEC §14): benchmark programs linked with the runtime and
# the golden example agent, then tests/bench/run.sh, which prints a table
# per measurement and a summary against the targets. It fails only when
# something broke, never because the machine is slow.
BENCH_SRCS  := $(wildcard tests/bench/*.c)
BENCH_BINS  := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
BENCH_AGENT := $(BUILD)/tests/golden/example/expected/aggregated_example_000.o

# An explicit prerequisite, so that make keeps the object.
$(BENCH_BINS): $(BENCH_AGENT)
$(BUILD)/bench/%: tests/bench/%.c $(RUNTIME_LIB) | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(INC_runtime) $(WARN) $(PKG_CFLAGS) \
		$(CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_AGENT) $(RUNTIME_LIB) \
		$(PKG_LIBS)

bench: deps-test
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) BIN=$(abspath $(BIN)) KA_CFLAGS="$(CFLAGS)" \
		KA_LDFLAGS="$(LDFLAGS)" tests/bench/run.sh

# The include flags of each layer, for the layering test (tests/it).
print-layers:
	@$(foreach l,$(LAYERS) agents,echo "$(l) $(INC_$(l))";)

# Rewrites tests/golden/*/expected/ from the generator's current output.
golden-update: $(BIN)
	UPDATE=1 BIN=$(abspath $(BIN)) tests/it/0010-golden.sh

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--suppress=unknownMacro --suppress=missingIncludeSystem \
		--enable=warning,performance,portability \
		$(INC_tools) $(LAYERS)

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD) $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
