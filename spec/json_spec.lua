-- dagster.json: cjson's decode with integers and array markers fixed up, and a
-- strict, deterministic encoder (host/ljson.c).
--
-- Loads the module from the shared object named by DAGSTER_JSON_SO when set
-- (throwaway build of host/ljson.c), else with require (preloaded by the host).

local function load_json()
  local so = os.getenv("DAGSTER_JSON_SO")
  if so and so ~= "" then
    local open = assert(package.loadlib(so, "luaopen_dagster_json"))
    return open(), open
  end
  return require("dagster.json"), package.preload["dagster.json"]
end

local json, open = load_json()
local cjson = require("cjson")

local function nested_table(depth)  -- 'depth' tables, each inside the next
  local t = {}
  for _ = 2, depth do t = { t } end
  return t
end

local function encode_error(v)
  local ok, err = pcall(json.encode, v)
  assert.is_false(ok)
  assert.is_string(err)
  return err
end

describe("dagster.json", function()
  it("exports its version, null, array_mt and functions", function()
    assert.equal("dagster.json 1", json.version)
    assert.is_table(json.array_mt)
    for _, name in ipairs({ "decode", "encode", "array", "is_array" }) do
      assert.is_function(json[name])
    end
  end)

  it("can be opened twice, sharing array_mt", function()
    if not open then
      pending("no opener function available to call twice")
      return
    end
    local again = open()
    assert.equal(json.array_mt, again.array_mt)
    assert.equal(json.null, again.null)
    assert.equal("[]", again.encode(json.decode("[]")))
    assert.equal("[]", json.encode(again.array()))
  end)

  describe("null", function()
    it("is cjson.null, a NULL lightuserdata", function()
      assert.equal(cjson.null, json.null)
      assert.is_true(rawequal(cjson.null, json.null))
      assert.equal("userdata", type(json.null))
    end)

    it("is what JSON null decodes to, top level and nested", function()
      assert.equal(json.null, json.decode("null"))
      local v = json.decode('{"a":null,"b":[null,1]}')
      assert.equal(json.null, v.a)
      assert.equal(json.null, v.b[1])
      assert.equal(cjson.null, v.b[1])
    end)
  end)

  describe("decode", function()
    it("decodes integers as Lua integers", function()
      local v = json.decode('{"a":1,"neg":-42,"zero":0,"max":9007199254740992,"min":-9007199254740992}')
      assert.equal("integer", math.type(v.a))
      assert.equal(1, v.a)
      assert.equal("integer", math.type(v.neg))
      assert.equal(-42, v.neg)
      assert.equal("integer", math.type(v.zero))
      assert.equal("integer", math.type(v.max))
      assert.equal(9007199254740992, v.max)
      assert.equal("integer", math.type(v.min))
      assert.equal(-9007199254740992, v.min)
    end)

    it("decodes integers in arrays and at top level as Lua integers", function()
      local v = json.decode("[1,[2,[3]]]")
      assert.equal("integer", math.type(v[1]))
      assert.equal("integer", math.type(v[2][1]))
      assert.equal("integer", math.type(v[2][2][1]))
      assert.equal("integer", math.type(json.decode("7")))
      assert.equal("integer", math.type(json.decode("-0")))
    end)

    it("keeps numbers with a fraction as floats", function()
      local v = json.decode('{"a":1.5,"b":-0.25,"c":1700000000.123}')
      assert.equal("float", math.type(v.a))
      assert.equal(1.5, v.a)
      assert.equal("float", math.type(v.b))
      assert.equal("float", math.type(v.c))
      assert.equal(1700000000.123, v.c)
    end)

    it("decodes integral values written as floats (1e3, 1.0) as integers", function()
      local v = json.decode("[1e3,1.0,2E2]")
      assert.equal("integer", math.type(v[1]))
      assert.equal(1000, v[1])
      assert.equal("integer", math.type(v[2]))
      assert.equal("integer", math.type(v[3]))
    end)

    it("keeps integral values beyond 2^53 as floats", function()
      local v = json.decode("[1152921504606846976,-1152921504606846976,9007199254740994]")
      assert.equal("float", math.type(v[1]))
      assert.equal(2.0 ^ 60, v[1])
      assert.equal("float", math.type(v[2]))
      assert.equal("float", math.type(v[3]))
    end)

    it("decodes nested arrays and objects", function()
      local v = json.decode('{"a":{"b":[{"c":"d"},[true,false]]},"e":"f"}')
      assert.same({ a = { b = { { c = "d" }, { true, false } } }, e = "f" }, v)
    end)

    it("marks decoded arrays with json.array_mt, and not objects", function()
      local v = json.decode('{"list":[1,2],"obj":{"k":1},"deep":[[{"x":[3]}]]}')
      assert.equal(json.array_mt, getmetatable(v.list))
      assert.is_true(json.is_array(v.list))
      assert.is_nil(getmetatable(v))
      assert.is_nil(getmetatable(v.obj))
      assert.is_false(json.is_array(v.obj))
      assert.is_true(json.is_array(v.deep))
      assert.is_true(json.is_array(v.deep[1]))
      assert.is_true(json.is_array(v.deep[1][1].x))
    end)

    it("decodes an empty array as an empty marked table and {} as a plain one", function()
      local v = json.decode('{"a":[],"b":{},"c":[ \n\t],"d":[[],{}]}')
      assert.same({}, v.a)
      assert.is_nil(next(v.a))
      assert.is_true(json.is_array(v.a))
      assert.is_false(json.is_array(v.b))
      assert.is_true(json.is_array(v.c))
      assert.is_true(json.is_array(v.d[1]))
      assert.is_false(json.is_array(v.d[2]))
      assert.is_true(json.is_array(json.decode("[]")))
      assert.equal('{"a":[],"b":{},"c":[],"d":[[],{}]}', json.encode(v))
    end)

    it("leaves '[]' and 'nan' inside strings alone", function()
      local v = json.decode('{"s":"[]","t":"banana [ ]","u":["[]"]}')
      assert.equal("[]", v.s)
      assert.equal("banana [ ]", v.t)
      assert.equal("[]", v.u[1])
    end)

    it("decodes empty arrays unmarked when the text has a NaN of its own (limitation)", function()
      local v = json.decode('{"a":[],"n":NaN}')
      assert.is_false(json.is_array(v.a))
      assert.is_nil(next(v.a))
      assert.is_true(v.n ~= v.n)
    end)

    it("decodes string escapes and UTF-8", function()
      assert.equal('a"b\\c\n\1é€', json.decode('"a\\"b\\\\c\\n\\u0001\\u00e9€"'))
    end)

    it("returns nil and cjson's message for invalid JSON", function()
      for _, text in ipairs({ "", "{", "[1,}", '{"a":}', "[1] x", "tru", '"open' }) do
        local v, err = json.decode(text)
        assert.is_nil(v)
        assert.is_string(err)
        local ok, cerr = pcall(cjson.decode, text)
        assert.is_false(ok)
        assert.equal(cerr, err)
      end
    end)

    it("reports cjson's message and position when the text has empty arrays", function()
      local text = '[[], [ ], {"a": [], }]'
      local v, err = json.decode(text)
      assert.is_nil(v)
      local _, cerr = pcall(cjson.decode, text)
      assert.equal(cerr, err)
      assert.matches("at character 21$", err)
    end)

    it("returns nil and a message for arrays nested 2000 deep", function()
      local v, err = json.decode(("["):rep(2000) .. ("]"):rep(2000))
      assert.is_nil(v)
      assert.matches("too many nested", err)
    end)

    it("decodes arrays nested 1000 deep, cjson's limit", function()
      local text = ("["):rep(1000) .. ("]"):rep(1000)
      local v = assert(json.decode(text))
      local depth, t = 1, v
      while t[1] do t, depth = t[1], depth + 1 end
      assert.equal(1000, depth)
      assert.is_true(json.is_array(t))
      assert.equal(text, json.encode(v))
    end)

    it("is not affected by changes to the shared cjson's settings", function()
      if not cjson.new then
        pending("this cjson has no new(): json.decode shares its settings")
        return
      end
      local old = cjson.decode_max_depth()
      cjson.decode_max_depth(5)
      local v, err = json.decode(("["):rep(10) .. ("]"):rep(10))
      cjson.decode_max_depth(old)
      assert.is_nil(err)
      assert.is_table(v)
    end)

    it("rejects a non-string argument", function()
      local ok, err = pcall(function()
        local v = json.decode(nil)
        return v
      end)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'decode' (string expected, got nil)", err, 1, true)
    end)
  end)

  describe("encode", function()
    it("encodes nil, json.null and booleans", function()
      assert.equal("null", json.encode(nil))
      assert.equal("null", json.encode(json.null))
      assert.equal("[null,true,false]", json.encode({ json.null, true, false }))
    end)

    it("encodes integers in full", function()
      assert.equal("0", json.encode(0))
      assert.equal("-42", json.encode(-42))
      assert.equal("9223372036854775807", json.encode(math.maxinteger))
      assert.equal("-9223372036854775808", json.encode(math.mininteger))
    end)

    it("encodes floats shortest-first, integral ones with .0", function()
      assert.equal("1.5", json.encode(1.5))
      assert.equal("0.1", json.encode(0.1))
      assert.equal("1.0", json.encode(1.0))
      assert.equal("-0.0", json.encode(-0.0))
      assert.equal("1e+20", json.encode(1e20))
      assert.equal("1700000000.123", json.encode(1700000000.123))
    end)

    it("encodes floats that read back to the same value", function()
      for _, x in ipairs({ math.pi, 1 / 3, 0.1 + 0.2, 1e-300, 5e-324, 2 ^ 60,
                           1.7976931348623157e308, -2.5e-7, 123456789.98765432 }) do
        local s = json.encode(x)
        assert.equal(x, tonumber(s))
        assert.equal(x, json.decode(s))
      end
    end)

    it("raises on non-finite numbers", function()
      for _, x in ipairs({ math.huge, -math.huge, 0 / 0 }) do
        assert.matches("^json%.encode: cannot encode non%-finite number", encode_error(x))
      end
      assert.matches("cannot encode non%-finite number at %$%.a%[2%]",
                     encode_error({ a = { 1, math.huge } }))
    end)

    it("escapes strings per RFC 8259 and passes UTF-8 bytes through", function()
      assert.equal([["a\"b\\c\n\r\t\b\f\u0001\u001f/é€"]],
                   json.encode('a"b\\c\n\r\t\b\f\1\31/é€'))
    end)

    it("round-trips strings with quotes, backslashes, controls and UTF-8", function()
      local bytes = {}
      for c = 0, 127 do bytes[#bytes + 1] = string.char(c) end
      local all = table.concat(bytes) .. "é€😀"
      for _, s in ipairs({ "", 'say "hi"', "back\\slash", "line\nbreak", "\1\2\0", all }) do
        assert.equal(s, json.decode(json.encode(s)))
      end
    end)

    it("encodes an empty plain table as {} and an empty marked one as []", function()
      assert.equal("{}", json.encode({}))
      assert.equal("[]", json.encode(json.array()))
      assert.equal("[]", json.encode(setmetatable({}, { __jsontype = "array" })))
      assert.equal('{"a":[],"b":{}}', json.encode({ a = json.array(), b = {} }))
    end)

    it("encodes tables with keys 1..n as arrays, marked or not", function()
      assert.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
      assert.equal('[1,"two",[3]]', json.encode(json.array({ 1, "two", { 3 } })))
    end)

    it("encodes objects with keys sorted", function()
      assert.equal('{"a":2,"b":1,"c":{"Z":0,"y":2,"z":1}}',
                   json.encode({ b = 1, a = 2, c = { z = 1, y = 2, Z = 0 } }))
      assert.equal('{"":1,"a":2,"aa":3,"ab":4}', json.encode({ ab = 4, aa = 3, a = 2, [""] = 1 }))
    end)

    it("escapes object keys", function()
      assert.equal('{"a\\"b\\n":1}', json.encode({ ['a"b\n'] = 1 }))
    end)

    it("raises on sparse arrays", function()
      assert.matches("^json%.encode: cannot encode sparse array", encode_error({ 1, nil, 3 }))
      assert.matches("cannot encode sparse array", encode_error({ [2] = "x" }))
      assert.matches("cannot encode sparse array.* at %$%.a$",
                     encode_error({ a = { [1] = 1, [5] = 5 } }))
    end)

    it("raises on mixed tables", function()
      assert.matches("^json%.encode: cannot encode table with key of type number",
                     encode_error({ 1, 2, x = 3 }))
    end)

    it("raises on keys that are not strings", function()
      assert.matches("^json%.encode: cannot encode table with key of type boolean",
                     encode_error({ [true] = 1 }))
      assert.matches("cannot encode table with key of type number", encode_error({ [1.5] = 1 }))
      assert.matches("cannot encode table with key of type number", encode_error({ [0] = 1 }))
      assert.matches("cannot encode table with key of type table", encode_error({ [{}] = 1, a = 1 }))
      assert.matches("cannot encode array with key of type string",
                     encode_error(json.array({ 1, x = 2 })))
    end)

    it("raises on values JSON cannot hold, saying where they are", function()
      assert.equal("json.encode: cannot encode value of type function", encode_error(print))
      assert.equal("json.encode: cannot encode value of type function at $.a[2]",
                   encode_error({ a = { 1, print } }))
      assert.equal("json.encode: cannot encode value of type thread at $.job.co",
                   encode_error({ job = { co = coroutine.create(print) } }))
      assert.matches("cannot encode value of type userdata", encode_error(io.stdout))
    end)

    it("encodes tables nested 1000 deep", function()
      local s = json.encode(nested_table(1000))
      assert.equal(("["):rep(999) .. "{}" .. ("]"):rep(999), s)
    end)

    it("raises 'nesting too deep' on tables nested 1001 and 2000 deep", function()
      assert.matches("^json%.encode: nesting too deep", encode_error(nested_table(1001)))
      assert.matches("^json%.encode: nesting too deep", encode_error(nested_table(2000)))
    end)

    it("raises 'nesting too deep' on cycles", function()
      local t = {}
      t.self = t
      assert.matches("^json%.encode: nesting too deep", encode_error(t))
      local a = { 1 }
      a[2] = a
      assert.matches("nesting too deep", encode_error(a))
    end)

    it("reads tables raw, ignoring __index and __pairs", function()
      local t = setmetatable({ a = 1 }, {
        __index = function() return "x" end,
        __pairs = function() error("no") end,
      })
      assert.equal('{"a":1}', json.encode(t))
    end)
  end)

  describe("array and is_array", function()
    it("marks a given table or a new one, and returns it", function()
      local t = { 1 }
      assert.equal(t, json.array(t))
      assert.equal(json.array_mt, getmetatable(t))
      local e = json.array()
      assert.is_true(json.is_array(e))
      assert.is_nil(next(e))
    end)

    it("is_array is true only for marked tables", function()
      assert.is_false(json.is_array({ 1, 2 }))
      assert.is_false(json.is_array("x"))
      assert.is_false(json.is_array(nil))
      assert.is_true(json.is_array(setmetatable({}, { __jsontype = "array" })))
    end)

    it("rejects a non-table argument", function()
      local ok, err = pcall(function()
        local v = json.array(5)
        return v
      end)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'array' (table expected, got number)", err, 1, true)
    end)
  end)

  describe("round trip", function()
    -- A runsOrError response as Dagster's webserver sends it, written here
    -- compact and with keys in byte order, as json.encode writes it.
    local response = table.concat({
      '{"data":{"runsOrError":{"__typename":"Runs","results":[',
      '{"__typename":"Run","assetSelection":null,"endTime":1732541234.5,',
      '"jobName":"etl_job","mode":"default","parentRunId":null,',
      '"runConfigYaml":"ops:\\n  load:\\n    config:\\n      path: \\"/tmp/in.csv\\"\\n",',
      '"runId":"8f0c1e4e-5b2a-4c3d-9e1f-0a1b2c3d4e5f","startTime":1732541200.123,',
      '"stats":{"__typename":"RunStatsSnapshot","endTime":1732541234.5,',
      '"enqueuedTime":null,"stepsFailed":0,"stepsSucceeded":3},',
      '"status":"SUCCESS","tags":[{"key":"dagster/from_ui","value":"true"},',
      '{"key":"owner","value":"d\\u00e9j\\u00e0 vu \\u2014 caf\\u00e9"}]},',
      '{"__typename":"Run","assetSelection":[{"path":["raw","events"]}],',
      '"endTime":null,"jobName":"__ASSET_JOB","mode":"default",',
      '"parentRunId":"8f0c1e4e-5b2a-4c3d-9e1f-0a1b2c3d4e5f","runConfigYaml":"{}\\n",',
      '"runId":"c0ffee00-0000-4000-8000-000000000001","startTime":null,',
      '"stats":{"__typename":"PythonError","cause":null,"message":"boom",',
      '"stack":["  File \\"x.py\\", line 1\\n"]},"status":"QUEUED","tags":[]}',
      ']}}}',
    })

    it("decodes a Dagster response and encodes it back to the same text, but UTF-8", function()
      local v = assert(json.decode(response))
      local out = json.encode(v)
      local expected = response:gsub("\\u00e9", "é"):gsub("\\u00e0", "à"):gsub("\\u2014", "—")
      assert.equal(expected, out)
      assert.same(v, json.decode(out))
      assert.equal(out, json.encode(json.decode(out)))
    end)

    it("keeps types through the round trip", function()
      local runs = json.decode(response).data.runsOrError.results
      assert.equal("integer", math.type(runs[1].stats.stepsSucceeded))
      assert.equal("float", math.type(runs[1].startTime))
      assert.equal(json.null, runs[2].endTime)
      assert.is_true(json.is_array(runs[2].tags))
      assert.is_nil(next(runs[2].tags))
      assert.equal("déjà vu — café", runs[1].tags[2].value)
    end)
  end)
end)
