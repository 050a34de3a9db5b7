-- Every GraphQL document dagster-lua sends, in one place. spec/documents_spec.lua validates
-- each one against the schema the pinned server serves (introspection + graphql-core).
--
-- Rules: current operations (launchRun, runOrError), an operation name starting with
-- DagsterLua, and every member of each result union selected: `... on Error { message }`
-- covers every member that implements Error, the others are selected by name.

local D = {}

-- the union members that do not implement Error, selected wherever they can come back
local CONFIG_ERRORS = [[
      errors {
        __typename message path reason
        stack { entries { __typename
          ... on EvaluationStackPathEntry { fieldName }
          ... on EvaluationStackListItemEntry { listIndex }
          ... on EvaluationStackMapKeyEntry { mapKey }
          ... on EvaluationStackMapValueEntry { mapKey } } }
      }]]

D.version = [[
query DagsterLuaVersion { version }]]

D.job_names = [[
query DagsterLuaJobNames {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on Error { message }
  }
}]]

D.launch_run = [[
mutation DagsterLuaLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConfigValidationInvalid { pipelineName]] .. CONFIG_ERRORS .. [[ }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.run_by_tag = [[
query DagsterLuaRunByTag($key: String!, $value: String!) {
  runsOrError(filter: {tags: [{key: $key, value: $value}]}, limit: 1) {
    __typename
    ... on Runs { results { runId } }
    ... on Error { message }
  }
}]]

D.run_status = [[
query DagsterLuaRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on Error { message }
  }
}]]

D.reload_location = [[
mutation DagsterLuaReloadLocation($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      name loadStatus
      locationOrLoadError {
        __typename
        ... on RepositoryLocation { name }
        ... on PythonError { message className stack }
      }
    }
    ... on Error { message }
  }
}]]

D.shutdown_location = [[
mutation DagsterLuaShutdownLocation($name: String!) {
  shutdownRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on ShutdownRepositoryLocationSuccess { repositoryLocationName }
    ... on Error { message }
  }
}]]

D.terminate_run = [[
mutation DagsterLuaTerminateRun($runId: String!, $terminatePolicy: TerminateRunPolicy) {
  terminateRun(runId: $runId, terminatePolicy: $terminatePolicy) {
    __typename
    ... on TerminateRunSuccess { run { runId status } }
    ... on TerminateRunFailure { message run { runId status } }
    ... on RunNotFoundError { runId }
    ... on Error { message }
  }
}]]

D.terminate_runs = [[
mutation DagsterLuaTerminateRuns($runIds: [String!]!, $terminatePolicy: TerminateRunPolicy) {
  terminateRuns(runIds: $runIds, terminatePolicy: $terminatePolicy) {
    __typename
    ... on TerminateRunsResult {
      terminateRunResults {
        __typename
        ... on TerminateRunSuccess { run { runId status } }
        ... on TerminateRunFailure { message run { runId status } }
        ... on RunNotFoundError { runId }
        ... on Error { message }
      }
    }
    ... on Error { message }
  }
}]]

------------------------------------------------------------------------------------------
-- runs: wait, read, list, events, re-execute (lua/dagster/runs.lua)
------------------------------------------------------------------------------------------
-- @@runs-documents@@

------------------------------------------------------------------------------------------
-- workspace: locations, repositories, jobs, assets, schedules, sensors (lua/dagster/workspace.lua)
------------------------------------------------------------------------------------------
-- @@workspace-documents@@

return D
