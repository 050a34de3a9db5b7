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

-- What the server can do, asked once per client by the methods that depend on it
-- (lua/dagster/capabilities.lua): Asset's fields and RunStatus's values differ between
-- Dagster 1.10 and 1.13. One introspection request; deprecated members count too.
D.capabilities = [[
query DagsterLuaCapabilities {
  version
  asset: __type(name: "Asset") { fields(includeDeprecated: true) { name } }
  runStatus: __type(name: "RunStatus") { enumValues(includeDeprecated: true) { name } }
}]]

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

D.validate_config = [[
query DagsterLuaValidateConfig($selector: PipelineSelector!, $runConfigData: RunConfigData) {
  isPipelineConfigValid(pipeline: $selector, mode: "default", runConfigData: $runConfigData) {
    __typename
    ... on PipelineConfigValidationValid { pipelineName }
    ... on RunConfigValidationInvalid { pipelineName]] .. CONFIG_ERRORS .. [[ }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- a job's run config schema: the root type, every type it uses (fields, enum values, the
-- type parameters of lists, maps and nullables) and the default config as YAML
D.config_schema = [[
query DagsterLuaConfigSchema($selector: PipelineSelector!) {
  runConfigSchemaOrError(selector: $selector, mode: "default") {
    __typename
    ... on RunConfigSchema {
      rootDefaultYaml
      rootConfigType { key }
      allConfigTypes {
        __typename key isSelector typeParamKeys
        ... on CompositeConfigType { fields { name configTypeKey isRequired defaultValueAsJson description } }
        ... on EnumConfigType { values { value } }
        ... on ScalarUnionConfigType { scalarTypeKey nonScalarTypeKey }
      }
    }
    ... on PipelineNotFoundError { pipelineName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- the instance (instance.lua)
D.instance = [[
query DagsterLuaInstance {
  instance {
    runQueuingSupported autoMaterializePaused supportsConcurrencyLimits
    minConcurrencyLimitValue maxConcurrencyLimitValue
    runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml isOpConcurrencyAware }
    poolConfig { poolGranularity defaultPoolLimit }
  }
}]]

D.daemon_health = [[
query DagsterLuaDaemonHealth {
  instance { daemonHealth { allDaemonStatuses {
    daemonType required healthy lastHeartbeatTime lastHeartbeatErrors { message className }
  } } }
}]]

D.concurrency_pools = [[
query DagsterLuaConcurrencyPools {
  instance { concurrencyLimits {
    concurrencyKey slotCount limit usingDefaultLimit
    claimedSlots { runId stepKey }
    pendingSteps { runId stepKey enqueuedTimestamp assignedTimestamp priority }
  } }
}]]

D.free_concurrency_slots = [[
mutation DagsterLuaFreeConcurrencySlots($runId: String!, $stepKey: String) {
  freeConcurrencySlots(runId: $runId, stepKey: $stepKey)
}]]

D.delete_run = [[
mutation DagsterLuaDeleteRun($runId: String!) {
  deleteRun(runId: $runId) {
    __typename
    ... on DeletePipelineRunSuccess { runId }
    ... on RunNotFoundError { message }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- the repositories' asset nodes with their partitions definitions: where a dynamic
-- partitions definition is used (assets.lua)
D.dynamic_partition_defs = [[
query DagsterLuaDynamicPartitionDefs {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name }
      assetNodes { assetKey { path }
        partitionDefinition { type name dimensionTypes { name dynamicPartitionsDefinitionName } } } } }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.asset_partition_keys = [[
query DagsterLuaAssetPartitionKeys($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode { partitionKeys partitionKeysByDimension { name partitionKeys } }
    ... on Error { message }
  }
}]]

D.delete_dynamic_partitions = [[
mutation DagsterLuaDeleteDynamicPartitions($keys: [String!]!, $def: String!,
    $repo: RepositorySelector!) {
  deleteDynamicPartitions(partitionKeys: $keys, partitionsDefName: $def, repositorySelector: $repo) {
    __typename
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.report_runless = [[
mutation DagsterLuaReportRunless($params: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $params) {
    __typename
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.wipe_assets = [[
mutation DagsterLuaWipeAssets($ranges: [PartitionsByAssetSelector!]!) {
  wipeAssets(assetPartitionRanges: $ranges) {
    __typename
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- the checks of some assets (assetKeys) or of a job's assets (pipeline), with the execution
-- that targets each asset's latest materialization
D.asset_checks = [[
query DagsterLuaAssetChecks($assetKeys: [AssetKeyInput!], $pipeline: PipelineSelector) {
  assetNodes(assetKeys: $assetKeys, pipeline: $pipeline) {
    assetKey { path } groupName
    repository { name location { name } }
    assetChecksOrError(pipeline: $pipeline) {
      __typename
      ... on AssetChecks { checks { name description blocking canExecuteIndividually jobNames
        executionForLatestMaterialization { id } } }
      ... on Error { message }
    }
  }
}]]

-- what client:asset_health reads of each asset: its place, its partitions' statuses and
-- counts (assetsLatestInfo adds its latest run and materialization)
D.asset_health = [[
query DagsterLuaAssetHealth($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path } groupName isMaterializable
    repository { name location { name } }
    partitionDefinition { type description }
    partitionStats { numMaterialized numPartitions numFailed numMaterializing }
    assetPartitionStatuses {
      __typename
      ... on DefaultPartitionStatuses { failedPartitions materializingPartitions }
      ... on TimePartitionStatuses { ranges { status startKey endKey } }
      ... on MultiPartitionStatuses {
        primaryDimensionName
        ranges {
          primaryDimStartKey primaryDimEndKey
          secondaryDim {
            __typename
            ... on DefaultPartitionStatuses { failedPartitions materializingPartitions }
            ... on TimePartitionStatuses { ranges { status startKey endKey } }
          }
        }
      }
    }
  }
}]]

D.assets_latest_info = [[
query DagsterLuaAssetsLatestInfo($assetKeys: [AssetKeyInput!]!) {
  assetsLatestInfo(assetKeys: $assetKeys) {
    assetKey { path }
    latestMaterialization { runId timestamp }
    inProgressRunIds unstartedRunIds
    latestRun { runId status updateTime }
  }
}]]

D.run_by_tag = [[
query DagsterLuaRunByTag($key: String!, $value: String!) {
  runsOrError(filter: {tags: [{key: $key, value: $value}]}, limit: 1) {
    __typename
    ... on Runs { results { runId tags { key value } } }
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
-- a Run's cheap fields, shared by get_run and the runs listings
local RUN_SUMMARY = [[
      runId jobName status tags { key value } creationTime startTime endTime updateTime
      parentRunId rootRunId canTerminate]]

-- the status poll of a wait that shows its progress: the step counts come in the same answer
D.run_progress = [[
query DagsterLuaRunProgress($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      status
      stats {
        __typename
        ... on RunStatsSnapshot { stepsSucceeded stepsFailed }
        ... on PythonError { message }
      }
    }
    ... on Error { message }
  }
}]]

-- every step of a run with its times, for client:timeline
D.run_timeline = [[
query DagsterLuaRunTimeline($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId jobName status startTime endTime
      stepStats { stepKey status startTime endTime }
    }
    ... on Error { message }
  }
}]]

D.run = [[
query DagsterLuaRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {]] .. RUN_SUMMARY .. [[
      runConfig
      stats {
        __typename
        ... on RunStatsSnapshot { stepsSucceeded stepsFailed }
        ... on PythonError { message }
      }
      stepStats { stepKey status }
    }
    ... on Error { message }
  }
}]]

D.runs = [[
query DagsterLuaRuns($filter: RunsFilter, $cursor: String, $limit: Int) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs { results {]] .. RUN_SUMMARY .. [[ } }
    ... on Error { message }
  }
}]]

-- the runs in flight with their step counts, (when $pools) the pools of the queued ones (the
-- server reads each run's plan for them: only the runs waiting are asked), and (when
-- $hasOthers) some runs whatever their status, in one request: client:runs_in_flight, the
-- refresh of the watch playbook, client:queue
D.runs_in_flight = [[
query DagsterLuaRunsInFlight($filter: RunsFilter, $others: [String!]!, $hasOthers: Boolean!,
    $limit: Int, $othersLimit: Int, $pools: Boolean = false, $queued: RunsFilter,
    $stats: Boolean = true) {
  inFlight: runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results {]] .. RUN_SUMMARY .. [[
      stats @include(if: $stats) {
        __typename ... on RunStatsSnapshot { stepsSucceeded stepsFailed } } } }
    ... on Error { message }
  }
  queuedPools: runsOrError(filter: $queued, limit: $limit) @include(if: $pools) {
    __typename
    ... on Runs { results { runId allPools } }
    ... on Error { message }
  }
  others: runsOrError(filter: {runIds: $others}, limit: $othersLimit) @include(if: $hasOthers) {
    __typename
    ... on Runs { results {]] .. RUN_SUMMARY .. [[
      stats @include(if: $stats) {
        __typename ... on RunStatsSnapshot { stepsSucceeded stepsFailed } } } }
    ... on Error { message }
  }
}]]

-- statuses of many runs at once (wait_for_runs), and which of some runs still exist
D.run_statuses = [[
query DagsterLuaRunStatuses($runIds: [String!]!, $limit: Int!) {
  runsOrError(filter: {runIds: $runIds}, limit: $limit) {
    __typename
    ... on Runs { results { runId status } }
    ... on Error { message }
  }
}]]

-- every event type implements MessageEvent; the failure ones also ErrorEvent
D.logs_for_run = [[
query DagsterLuaLogsForRun($runId: ID!, $afterCursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor hasMore
      events {
        __typename
        ... on MessageEvent { runId message timestamp level stepKey eventType }
        ... on ErrorEvent { error { message className cause { message className } } }
        ... on AssetCheckEvaluationPlannedEvent { assetKey { path } checkName }
        ... on AssetCheckEvaluationEvent { evaluation { assetKey { path } checkName success
          severity description } }
      }
    }
    ... on Error { message }
  }
}]]

D.reexecute = [[
mutation DagsterLuaReexecute($reexecutionParams: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $reexecutionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConfigValidationInvalid { pipelineName]] .. CONFIG_ERRORS .. [[ }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- @@runs-documents@@

------------------------------------------------------------------------------------------
-- workspace: locations, repositories, jobs, assets, schedules, sensors (lua/dagster/workspace.lua)
------------------------------------------------------------------------------------------
-- a code location's load error: the user's own exception is the first link of errorChain
local WS_LOAD_ERROR = [[
        ... on PythonError { message className stack
          errorChain { isExplicitLink error { message className stack } } }]]

-- the fields of a WorkspaceLocationEntry that client:location() returns
local WS_LOCATION_ENTRY = [[
      name loadStatus updatedTimestamp versionKey
      locationOrLoadError {
        __typename
        ... on RepositoryLocation { name serverId }]] .. WS_LOAD_ERROR .. [[
      }]]

D.locations = [[
query DagsterLuaLocations {
  workspaceOrError {
    __typename
    ... on Workspace { locationEntries {]] .. WS_LOCATION_ENTRY .. [[ } }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.location = [[
query DagsterLuaLocation($name: String!) {
  workspaceLocationEntryOrError(name: $name) {
    __typename
    ... on WorkspaceLocationEntry {]] .. WS_LOCATION_ENTRY .. [[ }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- the cheap poll of wait_for_location: no code-server round trip, no load errors
D.location_statuses = [[
query DagsterLuaLocationStatuses {
  locationStatusesOrError {
    __typename
    ... on WorkspaceLocationStatusEntries { entries { name loadStatus updateTimestamp versionKey } }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- Neither selects Job.isAssetJob: its resolver raises on Dagster 1.11 ("'GrapheneJob' object
-- has no attribute '_batch_loader'"). jobs() derives it as the server does: a job is an asset
-- job when an asset node of its repository names it in jobNames.
D.repositories = [[
query DagsterLuaRepositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } } }
    ... on RepositoryNotFoundError { repositoryName repositoryLocationName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.jobs = [[
query DagsterLuaJobs {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name }
      assetNodes { jobNames } partitionSets { pipelineName } } }
    ... on RepositoryNotFoundError { repositoryName repositoryLocationName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.asset_nodes = [[
query DagsterLuaAssetNodes($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path } groupName
    jobNames
    isMaterializable
    repository { name location { name } }
  }
}]]

D.assets = [[
query DagsterLuaAssets($prefix: [String!], $cursor: String, $limit: Int) {
  assetsOrError(prefix: $prefix, cursor: $cursor, limit: $limit) {
    __typename
    ... on AssetConnection { nodes { key { path } latestMaterializationTimestamp
      definition { groupName } assetHealth { assetHealth } } cursor }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- the asset keys alone (the REPL's completion), valid on every supported server
D.asset_keys = [[
query DagsterLuaAssetKeys($limit: Int) {
  assetsOrError(limit: $limit) {
    __typename
    ... on AssetConnection { nodes { key { path } } }
    ... on Error { message }
  }
}]]

-- the same for servers whose Asset has no latestMaterializationTimestamp (before Dagster
-- 1.11): the timestamp of the newest materialization event (a string, in milliseconds)
D.assets_from_events = [[
query DagsterLuaAssets($prefix: [String!], $cursor: String, $limit: Int) {
  assetsOrError(prefix: $prefix, cursor: $cursor, limit: $limit) {
    __typename
    ... on AssetConnection { nodes { key { path } assetMaterializations(limit: 1) { timestamp }
      definition { groupName } assetHealth { assetHealth } } cursor }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- schedules and sensors of every repository in one request (Repository.schedules/.sensors)
D.schedules = [[
query DagsterLuaSchedules($ticks: Int = 1) {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name }
      schedules { name cronSchedule pipelineName
        scheduleState { id selectorId status
          ticks(limit: $ticks) { timestamp status
            error { message errorChain { error { message } } } } } } } }
    ... on RepositoryNotFoundError { repositoryName repositoryLocationName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.sensors = [[
query DagsterLuaSensors($ticks: Int = 1) {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name }
      sensors { name minIntervalSeconds targets { pipelineName }
        sensorState { id selectorId status
          ticks(limit: $ticks) { timestamp status
            error { message errorChain { error { message } } } } } } } }
    ... on RepositoryNotFoundError { repositoryName repositoryLocationName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.start_schedule = [[
mutation DagsterLuaStartSchedule($scheduleSelector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $scheduleSelector) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on ScheduleNotFoundError { scheduleName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.stop_schedule = [[
mutation DagsterLuaStopSchedule($id: String!) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on ScheduleNotFoundError { scheduleName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.start_sensor = [[
mutation DagsterLuaStartSensor($sensorSelector: SensorSelector!) {
  startSensor(sensorSelector: $sensorSelector) {
    __typename
    ... on Sensor { name sensorState { id status } }
    ... on SensorNotFoundError { sensorName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.stop_sensor = [[
mutation DagsterLuaStopSensor($id: String!) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { id status } }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- one schedule or sensor in full, with its last ticks (the methods of issue 25)
local TICK = [[
        tickId status timestamp endTimestamp runIds skipReason cursor
        error { message errorChain { error { message } } }]]

D.schedule = [[
query DagsterLuaSchedule($selector: ScheduleSelector!, $limit: Int) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule { name cronSchedule executionTimezone pipelineName description defaultStatus
      scheduleState { id selectorId status ticks(limit: $limit) {]] .. TICK .. [[ } } }
    ... on ScheduleNotFoundError { scheduleName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.sensor = [[
query DagsterLuaSensor($selector: SensorSelector!, $limit: Int) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { name description defaultStatus minIntervalSeconds sensorType
      targets { pipelineName }
      sensorState { id selectorId status
        typeSpecificData { __typename ... on SensorData { lastCursor lastTickTimestamp lastRunKey } }
        ticks(limit: $limit) {]] .. TICK .. [[ } } }
    ... on SensorNotFoundError { sensorName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

-- the ticks of a schedule or a sensor, filtered by the server
D.ticks = [[
query DagsterLuaTicks($selector: InstigationSelector!, $limit: Int,
    $statuses: [InstigationTickStatus!], $before: Float) {
  instigationStateOrError(instigationSelector: $selector) {
    __typename
    ... on InstigationState { status
      ticks(limit: $limit, statuses: $statuses, beforeTimestamp: $before) {]] .. TICK .. [[ } }
    ... on InstigationStateNotFoundError { name }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.reset_schedule = [[
mutation DagsterLuaResetSchedule($scheduleSelector: ScheduleSelector!) {
  resetSchedule(scheduleSelector: $scheduleSelector) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on ScheduleNotFoundError { scheduleName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.reset_sensor = [[
mutation DagsterLuaResetSensor($sensorSelector: SensorSelector!) {
  resetSensor(sensorSelector: $sensorSelector) {
    __typename
    ... on Sensor { name sensorState { id status } }
    ... on SensorNotFoundError { sensorName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.set_sensor_cursor = [[
mutation DagsterLuaSetSensorCursor($sensorSelector: SensorSelector!, $cursor: String) {
  setSensorCursor(sensorSelector: $sensorSelector, cursor: $cursor) {
    __typename
    ... on Sensor { name sensorState { id status
      typeSpecificData { __typename ... on SensorData { lastCursor } } } }
    ... on SensorNotFoundError { sensorName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.auto_materialize_paused = [[
query DagsterLuaAutoMaterializePaused { instance { autoMaterializePaused } }]]

D.set_auto_materialize_paused = [[
mutation DagsterLuaSetAutoMaterializePaused($paused: Boolean!) {
  setAutoMaterializePaused(paused: $paused)
}]]

-- each repository's id and the names of its schedules and sensors, then the stored states of
-- one repository (those of instigators its code no longer has included)
D.instigator_names = [[
query DagsterLuaInstigatorNames {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { id name origin { id } location { name }
      schedules { name } sensors { name } } }
    ... on RepositoryNotFoundError { repositoryName repositoryLocationName }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.instigation_states = [[
query DagsterLuaInstigationStates($repositoryID: String!) {
  instigationStatesOrError(repositoryID: $repositoryID) {
    __typename
    ... on InstigationStates { results { id selectorId name instigationType status } }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.set_concurrency_limit = [[
mutation DagsterLuaSetConcurrencyLimit($key: String!, $limit: Int!) {
  setConcurrencyLimit(concurrencyKey: $key, limit: $limit)
}]]

D.delete_concurrency_limit = [[
mutation DagsterLuaDeleteConcurrencyLimit($key: String!) {
  deleteConcurrencyLimit(concurrencyKey: $key)
}]]

-- @@workspace-documents@@

------------------------------------------------------------------------------------------
-- partitions and backfills (lua/dagster/backfills.lua)
------------------------------------------------------------------------------------------
D.job_partitions = [[
query DagsterLuaJobPartitions($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { name partitionKeysOrError { partitionKeys } }
    ... on Error { message }
  }
}]]

-- one partition of a job: its run config (YAML) and tags, as Dagster's UI launches it, and
-- the job's keys (the server builds a partition's config for any name at all)
D.job_partition = [[
query DagsterLuaJobPartition($selector: PipelineSelector!, $partition: String!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline {
      partitionKeysOrError { partitionKeys }
      partition(partitionName: $partition) {
        name
        runConfigOrError { __typename ... on PartitionRunConfig { yaml } ... on PythonError { message } }
        tagsOrError { __typename ... on PartitionTags { results { key value } } ... on PythonError { message } }
      }
    }
    ... on Error { message }
  }
}]]

D.asset_partitions = [[
query DagsterLuaAssetPartitions($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    __typename
    ... on AssetNode {
      isPartitioned partitionKeys
      partitionDefinition { type dimensionTypes { name } }
    }
    ... on AssetNotFoundError { message }
  }
}]]

local LAUNCH_BACKFILL_RESULT = [[
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConfigValidationInvalid { pipelineName]] .. CONFIG_ERRORS .. [[ }
    ... on PartitionKeysNotFoundError { partitionKeys }
    ... on Error { message }
    ... on PythonError { className stack }]]

D.launch_backfill = [[
mutation DagsterLuaLaunchBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {]] .. LAUNCH_BACKFILL_RESULT .. [[
  }
}]]

D.reexecute_backfill = [[
mutation DagsterLuaReexecuteBackfill($reexecutionParams: ReexecutionParams!) {
  reexecutePartitionBackfill(reexecutionParams: $reexecutionParams) {]] .. LAUNCH_BACKFILL_RESULT .. [[
  }
}]]

-- what a backfill is at a glance (listings); BACKFILL_STATE adds what changes as it runs
local BACKFILL_HEAD = [[
      id status numPartitions timestamp endTimestamp isAssetBackfill fromFailure jobName
      assetSelection { path } tags { key value } error { message }]]
local BACKFILL_STATE = BACKFILL_HEAD .. [[

      partitionStatusCounts { runStatus count }
      assetBackfillData { assetBackfillStatuses {
        __typename
        ... on AssetPartitionsStatusCounts { assetKey { path } numPartitionsTargeted
          numPartitionsInProgress numPartitionsMaterialized numPartitionsFailed }
        ... on UnpartitionedAssetStatus { assetKey { path } inProgress materialized failed }
      } }]]

-- the one request of each poll round of wait_for_backfill
D.backfill_state = [[
query DagsterLuaBackfillState($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {]] .. BACKFILL_STATE .. [[ }
    ... on Error { message }
  }
}]]

D.backfill = [[
query DagsterLuaBackfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {]] .. BACKFILL_STATE .. [[

      partitionNames
      partitionStatuses { results { partitionName runId runStatus } }
      runs { runId status tags { key value } }
    }
    ... on Error { message }
  }
}]]

D.backfills = [[
query DagsterLuaBackfills($status: BulkActionStatus, $cursor: String, $limit: Int) {
  partitionBackfillsOrError(status: $status, cursor: $cursor, limit: $limit) {
    __typename
    ... on PartitionBackfills { results {]] .. BACKFILL_HEAD .. [[ } }
    ... on PythonError { message }
  }
}]]

-- the same with each backfill's partition counts (client:backfills{counts = true})
D.backfills_counted = [[
query DagsterLuaBackfills($status: BulkActionStatus, $cursor: String, $limit: Int) {
  partitionBackfillsOrError(status: $status, cursor: $cursor, limit: $limit) {
    __typename
    ... on PartitionBackfills { results {]] .. BACKFILL_STATE .. [[ } }
    ... on PythonError { message }
  }
}]]

D.cancel_backfill = [[
mutation DagsterLuaCancelBackfill($backfillId: String!) {
  cancelPartitionBackfill(backfillId: $backfillId) {
    __typename
    ... on CancelBackfillSuccess { backfillId }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]

D.resume_backfill = [[
mutation DagsterLuaResumeBackfill($backfillId: String!) {
  resumePartitionBackfill(backfillId: $backfillId) {
    __typename
    ... on ResumeBackfillSuccess { backfillId }
    ... on Error { message }
    ... on PythonError { className stack }
  }
}]]


return D
