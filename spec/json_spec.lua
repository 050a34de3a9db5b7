-- dagster.json: cjson's decode with integers and array markers fixed up, and a
-- strict, deterministic encoder (host/ljson.c).
--
-- Loads the module from the shared object named by DAGSTER_JSON_SO when set
-- (throwaway build of host/ljson.c), else with require (preloaded by the host, or
-- dagster/json.so on a stock lua5.4's cpath).

local function load_json()
  local so = os.getenv("DAGSTER_JSON_SO")
  if so and so ~= "" then
    local open = assert(package.loadlib(so, "luaopen_dagster_json"))
    return open(), open
  end
  local json = require("dagster.json")
  -- the opener: the host's preload entry, or in a stock lua5.4 luaopen_dagster_json of the
  -- dagster/json.so that require found on package.cpath
  local open = package.preload["dagster.json"]
  if open == nil then
    local path = package.searchpath("dagster.json", package.cpath)
    open = path and assert(package.loadlib(path, "luaopen_dagster_json"))
  end
  return json, open
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
    assert.is_function(open, "no opener function available to call twice")
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

    it("keeps float literals beyond 2^53 as floats", function()
      local v = json.decode("[1.152921504606846976e18,-9007199254740994.0,1e300]")
      assert.equal("float", math.type(v[1]))
      assert.equal(2.0 ^ 60, v[1])
      assert.equal("float", math.type(v[2]))
      assert.equal(-9007199254740994.0, v[2])
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

    it("marks empty arrays even when the text has a NaN of its own", function()
      local v = json.decode('{"a":[],"n":NaN,"o":{}}')
      assert.is_true(json.is_array(v.a))
      assert.is_nil(next(v.a))
      assert.is_false(json.is_array(v.o))
      assert.is_nil(next(v.o))
      assert.is_true(v.n ~= v.n)
    end)

    it("tells empty objects from empty arrays at every depth, whitespace or not", function()
      local v = json.decode('[{},[],{ },[ ],{"a":{},"b":[]},[[{}]],{"c":{"d":{}}}]')
      assert.is_false(json.is_array(v[1]))
      assert.is_true(json.is_array(v[2]))
      assert.is_false(json.is_array(v[3]))
      assert.is_true(json.is_array(v[4]))
      for i = 1, 4 do assert.is_nil(next(v[i])) end
      assert.is_false(json.is_array(v[5].a))
      assert.is_nil(next(v[5].a))
      assert.is_true(json.is_array(v[5].b))
      assert.is_false(json.is_array(v[6][1][1]))
      assert.is_nil(next(v[6][1][1]))
      assert.is_nil(next(v[7].c.d))
      assert.equal('[{},[],{},[],{"a":{},"b":[]},[[{}]],{"c":{"d":{}}}]', json.encode(v))
      assert.is_false(json.is_array(json.decode("{}")))
      assert.is_nil(next(json.decode("{}")))
      assert.is_nil(getmetatable(json.decode(" { } ")))
    end)

    it("leaves '{}' and digits inside strings alone", function()
      local v = json.decode('{"y":"{}\\n","k":"12345678901234567890","{}":{}}')
      assert.equal("{}\n", v.y)
      assert.equal("12345678901234567890", v.k)
      assert.is_nil(next(v["{}"]))
      assert.is_false(json.is_array(v["{}"]))
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

    it("reports cjson's message and position when the text has empty objects and big integers", function()
      for _, text in ipairs({ '[{}, 12345678901234567890, {"a": {}, }]', '{"a":{},"b":9007199254740993 x}',
                              '{}}', '[{} {}]', '[1, 12345678901234567890,]' }) do
        local v, err = json.decode(text)
        assert.is_nil(v)
        local ok, cerr = pcall(cjson.decode, text)
        assert.is_false(ok)
        assert.equal(cerr, err)
      end
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

    it("decodes objects nested 1000 deep, empty one innermost", function()
      local text = ('{"a":'):rep(999) .. "{}" .. ("}"):rep(999)
      local v = assert(json.decode(text))
      assert.equal(text, json.encode(v))
    end)

    it("is not affected by changes to the shared cjson's settings", function()
      assert.is_function(cjson.new, "this cjson has no new(): json.decode would share its settings")
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

  describe("decode of integers beyond 2^53", function()
    it("decodes integer literals that fit in 64 bits to exact Lua integers", function()
      local v = json.decode('{"a":9007199254740993,"b":-9007199254740993,"max":9223372036854775807,' ..
                            '"min":-9223372036854775808,"even":9007199254740994,"p60":1152921504606846976}')
      for _, k in ipairs({ "a", "b", "max", "min", "even", "p60" }) do
        assert.equal("integer", math.type(v[k]))
      end
      assert.equal(9007199254740993, v.a)
      assert.equal(-9007199254740993, v.b)
      assert.equal(math.maxinteger, v.max)
      assert.equal(math.mininteger, v.min)
      assert.equal(9007199254740994, v.even)
      assert.equal(1 << 60, v.p60)
      assert.equal("9007199254740993", tostring(v.a))
    end)

    it("decodes them exactly at top level, in arrays and nested", function()
      assert.equal(9007199254740993, json.decode("9007199254740993"))
      assert.equal("integer", math.type(json.decode("9007199254740993")))
      assert.equal(math.mininteger, json.decode("-9223372036854775808"))
      local v = json.decode("[9007199254740993,[1,{\"x\":[-9223372036854775807]}]] ")
      assert.equal(9007199254740993, v[1])
      assert.equal(-9223372036854775807, v[2][2].x[1])
      assert.equal("integer", math.type(v[2][2].x[1]))
      assert.is_true(json.is_array(v[2][2].x))
    end)

    it("decodes literals beyond 64 bits to floats when a double holds them exactly", function()
      local v = json.decode("[9223372036854775808,18446744073709551616,-18446744073709551616]")
      assert.equal("float", math.type(v[1]))
      assert.equal(2.0 ^ 63, v[1])
      assert.equal("float", math.type(v[2]))
      assert.equal(2.0 ^ 64, v[2])
      assert.equal(-(2.0 ^ 64), v[3])
    end)

    it("decodes literals beyond 64 bits to their exact digits otherwise", function()
      local v = json.decode('{"a":123456789012345678901234567890,"b":[-9223372036854775809],' ..
                            '"c":9223372036854775809}')
      assert.equal("123456789012345678901234567890", v.a)
      assert.equal("-9223372036854775809", v.b[1])
      assert.equal("9223372036854775809", v.c)
      assert.equal("123456789012345678901234567890", json.decode("123456789012345678901234567890"))
      local long = "1" .. ("0"):rep(400)
      assert.equal(long, json.decode("[" .. long .. "]")[1])
    end)

    it("keeps the 16-digit literals up to 2^53 as they were", function()
      local v = json.decode("[9007199254740992,-9007199254740992,1000000000000000,9007199254740991]")
      assert.same({ 9007199254740992, -9007199254740992, 1000000000000000, 9007199254740991 }, v)
      for i = 1, 4 do assert.equal("integer", math.type(v[i])) end
    end)

    it("keeps numbers with a fraction or an exponent as cjson reads them", function()
      local v = json.decode("[9007199254740993.0,9007199254740993e0,90071992547409930e-1]")
      for i = 1, 3 do assert.equal(9007199254740992, v[i]) end
    end)

    it("leaves strings of digits alone, and cannot be fooled by a string", function()
      local v = json.decode('["9007199254740993","\\u00ff9007199254740993",9007199254740993]')
      assert.equal("9007199254740993", v[1])
      assert.equal("\u{ff}9007199254740993", v[2])
      assert.equal(9007199254740993, v[3])
      -- the rewrite's marker byte 0xFF cannot come from the text: it is not UTF-8
      local err
      v, err = json.decode('["\255' .. '9007199254740993"]')
      assert.is_nil(v)
      assert.equal("invalid UTF-8 at byte 3", err)
    end)

    it("rejects a big literal in key position with cjson's message", function()
      for _, text in ipairs({ "{12345678901234567890:1}", '{"a":1,12345678901234567890:2}',
                              '{"a":{123456789012345678:1},"a":2}' }) do
        local v, err = json.decode(text)
        assert.is_nil(v)
        local _, cerr = pcall(cjson.decode, text)
        assert.equal(cerr, err)
        assert.matches("Expected object key string but found T_NUMBER", err, 1, true)
      end
    end)

    it("round-trips them exactly through encode", function()
      local text = '{"a":9007199254740993,"b":[-9223372036854775808,9223372036854775807],' ..
                   '"c":"123456789012345678901234567890"}'
      assert.equal(text, json.encode(json.decode(text)))
      assert.equal('{"a":"123456789012345678901234567890"}',
                   json.encode(json.decode('{"a":123456789012345678901234567890}')))
    end)
  end)

  describe("decode of invalid UTF-8", function()
    local function rejects(text, pos)
      local v, err = json.decode(text)
      assert.is_nil(v)
      assert.equal("invalid UTF-8 at byte " .. pos, err)
    end

    it("accepts UTF-8 of 1 to 4 bytes, up to U+10FFFF, in keys and values", function()
      local s = "a\u{7f}\u{80}é\u{7ff}\u{800}€\u{d7ff}\u{e000}\u{fffd}\u{ffff}\u{10000}😀\u{10ffff}"
      local v = assert(json.decode('{"' .. s .. '":"' .. s .. '"}'))
      assert.equal(s, v[s])
    end)

    it("rejects bytes that are never UTF-8, in values and in keys", function()
      rejects('"\255"', 2)
      rejects('"\254"', 2)
      rejects('["ok","x\192\175"]', 9)          -- C0 AF: overlong "/"
      rejects('{"k\193\191":1}', 4)             -- C1 BF: overlong
      rejects('{"a":"b","\245\128\128\128":1}', 11)  -- F5: beyond U+10FFFF
      rejects('{"\248\136\128\128\128":1}', 3)  -- 5-byte form
    end)

    it("rejects stray continuation bytes", function()
      rejects('"\128"', 2)
      rejects('"ab\191cd"', 4)
      rejects('{"é\169":1}', 5)                 -- one continuation byte too many
    end)

    it("rejects overlong forms", function()
      rejects('"\224\128\175"', 2)              -- E0 80 AF: overlong "/"
      rejects('"\224\159\191"', 2)              -- E0 9F BF: overlong U+07FF
      rejects('"\240\143\191\191"', 2)          -- F0 8F BF BF: overlong U+FFFF
    end)

    it("rejects surrogates and code points above U+10FFFF", function()
      rejects('"\237\160\128"', 2)              -- ED A0 80: U+D800
      rejects('["\237\191\191"]', 3)            -- ED BF BF: U+DFFF
      rejects('{"\237\176\128":1}', 3)          -- in a key
      rejects('"\244\144\128\128"', 2)          -- F4 90 80 80: U+110000
    end)

    it("rejects truncated sequences, at the end of the text or not", function()
      rejects('"\195"', 2)                      -- C3 then '"'
      rejects('"\226\130"', 2)                  -- E2 82 then '"'
      rejects('"\240\159\152"', 2)              -- F0 9F 98 then '"'
      rejects('"abc\240\159', 5)                -- cut at the end of the text
      rejects('\195', 1)
      rejects('["\226\130', 3)
    end)

    it("rejects invalid UTF-8 outside strings and after escapes", function()
      rejects('[1,\255]', 4)
      rejects('{"a":1}\128', 8)
      rejects('"\\\255"', 3)                   -- the escaped byte itself
      local v, err = json.decode('"\\é"')     -- UTF-8, but not an escape: cjson's message
      assert.is_nil(v)
      assert.matches("invalid escape code", err, 1, true)
    end)

    it("reports the first bad byte only, and checks the whole text", function()
      rejects('["\255", "\254"]', 3)
      rejects(('"' .. ("é"):rep(5000) .. '"'):rep(2, ",") .. "\255", 20006)
    end)
  end)

  describe("decode of NUL bytes", function()
    it("rejects a NUL byte outside strings instead of stopping there", function()
      local v, err = json.decode('{"a":1}\0{"b":2}')
      assert.is_nil(v)
      assert.equal("unexpected NUL byte at byte 8", err)
      v, err = json.decode("[1,\0 2]")
      assert.is_nil(v)
      assert.equal("unexpected NUL byte at byte 4", err)
    end)

    it("decodes \\u0000 inside strings", function()
      assert.equal("a\0b", json.decode('"a\\u0000b"'))
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

    it("refuses a string or key that is not UTF-8, naming where", function()
      local function encode_error(v)
        local ok, err = pcall(json.encode, v)
        assert.is_false(ok)
        return err
      end
      assert.equal("json.encode: invalid UTF-8 in string at byte 3",
                   encode_error("ab\xff"))
      assert.equal("json.encode: invalid UTF-8 in string at byte 2 at $.runId",
                   encode_error({ runId = "a\xc3(" }))               -- cut short
      assert.equal("json.encode: invalid UTF-8 in string at byte 1 at $.a[2]",
                   encode_error({ a = { "ok", "\xed\xa0\x80" } }))  -- a surrogate
      assert.equal("json.encode: invalid UTF-8 in key at byte 1",
                   encode_error({ ["\xc0\xaf"] = 1, b = 2 }))        -- overlong
      assert.equal("json.encode: invalid UTF-8 in key at byte 2 at $.t",
                   encode_error({ t = { ["x\x80"] = 1 } }))
      assert.equal('{"k":"é€😀\\u0001"}', json.encode({ k = "é€😀\1" }))
    end)

    it("writes a one-key object like any other, nested or not", function()
      assert.equal('{"runId":"abc"}', json.encode({ runId = "abc" }))
      assert.equal('{"a":{"b":{"c":[1,{"d":null}]}}}',
                   json.encode({ a = { b = { c = { 1, { d = json.null } } } } }))
      assert.equal('[{"k":1},{"k":2}]', json.encode({ { k = 1 }, { k = 2 } }))
      assert.equal('{"a":{},"z":{"q":"x\\"y"}}', json.encode({ a = {}, z = { q = 'x"y' } }))
      local ok, err = pcall(json.encode, { only = { [true] = 1 } })
      assert.is_false(ok)
      assert.equal("json.encode: cannot encode table with key of type boolean at $.only", err)
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
