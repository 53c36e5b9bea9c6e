.PHONY: test demo bench

# Run every test (vet, tests, race) against a throwaway PostgreSQL.
test:
	scripts/test

demo:
	go run ./cmd/tradeassure demo

# Benchmarks: runs scripts/bench once it exists.
bench:
	@if [ -x scripts/bench ]; then scripts/bench; \
	elif [ -f scripts/bench ]; then bash scripts/bench; \
	else echo "scripts/bench does not exist yet"; fi
