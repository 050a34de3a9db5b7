-- Every GraphQL document the module sends is valid against the schema the server under test
-- serves: introspected from the live webserver and checked with graphql-core's validate.
-- A document that needs what only newer servers have (dagster.capabilities.document_needs)
-- is valid exactly when the server's capabilities say so, and invalid otherwise.
local dagster = require "dagster"
local H = require "helper"

describe("GraphQL documents", function()
  it("all validate against the live server's schema, or fail exactly where it lacks a capability", function()
    local docs = require "dagster.documents"
    local caps = require "dagster.capabilities"
    local have = caps.get(H.client())
    local n = 0
    for _ in pairs(docs) do n = n + 1 end
    assert.is_true(n >= 8, "expected the module's documents, found " .. n)
    local out, err, code = H.run(H.quote(H.python()) .. " " .. H.root ..
      "/spec/support/validate_documents.py " .. H.quote(H.url() .. "/graphql"), dagster.json.encode(docs))
    assert.equal(0, code, err)
    local result = dagster.json.decode(out)
    for name in pairs(docs) do
      assert.is_table(result[name], "no result for " .. name)
      local need = caps.document_needs[name]
      if need == nil or need(have) then
        assert.same({}, result[name], name .. ": " .. table.concat(result[name], "; "))
      else
        assert.is_true(#result[name] >= 1, name .. " validates on Dagster " .. have.version ..
          ", which lacks what it needs")
      end
    end
  end)

  it("has a fallback for each document that needs a capability, valid on every server", function()
    local docs = require "dagster.documents"
    local caps = require "dagster.capabilities"
    -- Asset.latestMaterializationTimestamp is new in 1.11: assets() then reads the newest
    -- materialization event instead
    assert.equal(H.version_at_least("1.11"), caps.get(H.client()).asset_latest_materialization)
    assert.is_string(docs.assets_from_events)
    assert.is_nil(caps.document_needs.assets_from_events)
    for name in pairs(caps.document_needs) do assert.is_string(docs[name], name) end
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
