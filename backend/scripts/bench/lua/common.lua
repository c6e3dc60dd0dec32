-- Shared by every scenario script: print wrk's results as one JSON line.
-- Latencies are microseconds; "status" counts responses with a status >= 400
-- (wrk's own "Non-2xx or 3xx responses" counter); measure.py checks every scenario
-- for its exact 2xx status with a single request before the load starts.

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max))
end

-- Give every thread a distinct number so rotating scripts start at different ids.
-- bench_threads keeps them for a done() that reads per-thread globals (seed.lua).
local next_thread_number = 0
bench_threads = {}
function setup(thread)
   thread:set("thread_number", next_thread_number)
   next_thread_number = next_thread_number + 1
   table.insert(bench_threads, thread)
end

-- BENCH_IDS="1,2,3" -> {1, 2, 3}
function bench_ids()
   local ids = {}
   for id in string.gmatch(os.getenv("BENCH_IDS") or "", "%d+") do
      ids[#ids + 1] = tonumber(id)
   end
   if #ids == 0 then
      error("BENCH_IDS is empty")
   end
   return ids
end
