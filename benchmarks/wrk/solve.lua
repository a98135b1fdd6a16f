-- wrk script: POST one prebuilt request body to /v1/solve on every request.
--
--   WRK_BODY_FILE=body.bin WRK_CONTENT_TYPE="multipart/form-data; boundary=..." \
--     wrk -t2 -c64 -d5s --latency -s benchmarks/wrk/solve.lua http://127.0.0.1:8000/v1/solve
--
-- benchmarks/service_load.py --driver wrk writes the body file (a multipart image upload or a
-- JSON base64 body) and sets both variables. The body is built once per wrk thread, so the
-- client spends its CPU on sockets, not on encoding.

local path = assert(os.getenv("WRK_BODY_FILE"), "set WRK_BODY_FILE")
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = assert(os.getenv("WRK_CONTENT_TYPE"), "set WRK_CONTENT_TYPE")
