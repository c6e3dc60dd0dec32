"""The benchmark behind backend/scripts/bench.sh (docs/performance.md says how to run and read it).

Starts the app on a fresh database, seeds it through the API, runs wrk on the scenarios
and on a bare FastAPI "ceiling" app served the same way, and prints one table (requests/s
as a fraction of the ceiling) plus CPU use, peak RSS and PASS/FAIL per target. Modules:

- `scenarios`: what is measured, as data (servers, scenarios, targets, comparisons)
- `processes`: the child processes (through backend.test.live), their CPU time and memory
- `database`: the fresh database, migrations and the app's environment
- `seeding`: users and todos created through the API
- `wrk` and `measure`: one wrk run, and one scenario measured into a table row
- `targets` and `report`: PASS/FAIL, and the tables on stdout and in bench-results/
- `main`: the command line and the order of a run
"""
