-- Every GraphQL document the module sends is valid against the schema the pinned server
-- serves: introspected from the live webserver and checked with graphql-core's validate.
local dagster = require "dagster"
local H = require "helper"

describe("GraphQL documents", function()
  it("all validate against the live server's schema", function()
    local docs = require "dagster.documents"
    local n = 0
    for _ in pairs(docs) do n = n + 1 end
    assert.is_true(n >= 8, "expected the module's documents, found " .. n)
    local out, err, code = H.run(H.quote(H.python()) .. " " .. H.root ..
      "/spec/support/validate_documents.py " .. H.quote(H.url() .. "/graphql"), dagster.json.encode(docs))
    assert.equal(0, code, err)
    local result = dagster.json.decode(out)
    for name in pairs(docs) do
      assert.is_table(result[name], "no result for " .. name)
      assert.same({}, result[name], name .. ": " .. table.concat(result[name], "; "))
    end
  end)

  it("the validator really rejects an invalid document", function()
    local out, err, code = H.run(H.quote(H.python()) .. " " .. H.root ..
      "/spec/support/validate_documents.py " .. H.quote(H.url() .. "/graphql"),
      dagster.json.encode { bad = "query { runOrError(runId: 1) { nosuch } }" })
    assert.equal(0, code, err)
    assert.is_true(#dagster.json.decode(out).bad >= 1)
  end)

  it("each operation is named DagsterLua...", function()
    for name, doc in pairs(require "dagster.documents") do
      assert.matches("^%s*%a+ DagsterLua%w+", doc, nil, false, name)
    end
  end)
end)
