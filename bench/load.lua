-- wrk script for `make load`: POST /v1/route at a paced rate.
-- wrk is closed-loop, so the rate comes from a per-request delay: every connection waits
-- DELAY_MS between requests, giving about connections * 1000 / (DELAY_MS + latency) req/s.
local keys = {
  "frustrated-burst-seek_advice", "calm-medium-learning", "analytical-contemplative-planning",
  "Frustrated_Burst_Seeking-Advice", "collaborative-medium-planning", "curious-flowing-learning",
}
local delay_ms = tonumber(os.getenv("LOAD_DELAY_MS") or "50")
local counter = 0

request = function()
  counter = counter + 1
  local body = '{"resonance_key":"' .. keys[(counter % #keys) + 1] .. '"}'
  return wrk.format("POST", "/v1/route", { ["Content-Type"] = "application/json" }, body)
end

delay = function()
  return delay_ms
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout))
end
