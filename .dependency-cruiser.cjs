// The architecture of k3sctl as rules (docs/ARCHITECTURE.md draws the same picture). `npm run lint` runs
// them; there is no exception list: a rule that does not hold is fixed in the code or changed here, on
// purpose, for every file.
//
//   commands -> cli (command kit), ui -> workflows -> steps -> model and engine -> resources -> provider -> aws -> core
//
// provider is the contract between the engine and the resources: tasks, the journal's write, providers
// and their registry type, and the cluster view the model hands the providers (the cluster's tasks are
// theirs). The engine runs tasks and undoes through it without knowing any resource.
//
// config (schemas, names, formats), userdata (instance scripts) and kube (kubeconfig over SSH/SSM) are
// leaves that any layer above resources may use; the sandbox stands beside resources and answers the SDK.

const layer = (name, path) => ({ name, path });
const L = {
  commands: layer('commands', '^src/commands/'),
  cli: layer('cli', '^src/cli/'),
  ui: layer('ui', '^src/ui/'),
  workflows: layer('workflows', '^src/orchestration/workflows/'),
  steps: layer('steps', '^src/orchestration/steps/'),
  model: layer('model', '^src/model/'),
  engine: layer('engine', '^src/orchestration/engine/'),
  deps: layer('deps', '^src/orchestration/deps[.]ts$'),
  resources: layer('resources', '^src/resources/'),
  provider: layer('provider', '^src/provider/'),
  aws: layer('aws', '^src/aws/'),
  core: layer('core', '^src/core/'),
  config: layer('config', '^src/config/'),
  userdata: layer('userdata', '^src/userdata/'),
  kube: layer('kube', '^src/kube/'),
  sandbox: layer('sandbox', '^src/sandbox/'),
};

/** `from` may import nothing in `to` (a list of layers). */
const forbid = (from, to, comment) => ({
  name: `layer-${from.name}`,
  comment,
  severity: 'error',
  from: { path: from.path },
  to: { path: to.map((t) => t.path) },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles anywhere in src.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'aws-sdk-only-in-aws-resources-sandbox',
      comment: 'The AWS SDK (and smithy) is imported only in src/aws, src/resources and src/sandbox.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(aws|resources|sandbox)/' },
      to: { path: 'node_modules/(@aws-sdk|@smithy)/' },
    },
    {
      name: 'terminal-libraries-only-in-commands-cli-ui',
      comment: 'oclif, listr2 and inquirer are the terminal: only commands, the command kit and ui know them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(commands|cli|ui)/' },
      to: { path: 'node_modules/(@oclif|listr2|@inquirer)/' },
    },
    {
      name: 'no-command-imports-a-command',
      comment: 'Commands are thin and independent: what two share goes in the command kit (src/cli).',
      severity: 'error',
      from: { path: '^src/commands/' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'no-workflow-imports-a-workflow',
      comment: 'A workflow that needs another one\'s work calls a shared step (src/orchestration/steps) or the model.',
      severity: 'error',
      from: { path: '^src/orchestration/workflows/([^/]+)[.]ts$' },
      to: { path: '^src/orchestration/workflows/', pathNot: '^src/orchestration/workflows/$1[.]ts$' },
    },
    forbid(L.commands, [L.resources, L.provider, L.aws, L.engine, L.steps, L.sandbox, L.kube], 'Commands parse flags, call a workflow and render: AWS, resources and the engine are below them.'),
    forbid(L.cli, [L.commands, L.resources, L.engine, L.steps], 'The command kit serves commands; it knows no resource.'),
    forbid(L.ui, [L.commands, L.cli, L.workflows, L.steps, L.engine, L.resources, L.provider, L.aws, L.sandbox], 'ui renders events and data it is given.'),
    forbid(L.workflows, [L.commands, L.cli, L.ui], 'Nothing below commands knows the terminal.'),
    forbid(L.steps, [L.commands, L.cli, L.ui, L.workflows], 'Steps are shared by workflows and call no workflow.'),
    forbid(L.model, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.engine, L.deps, L.sandbox], 'The model is the cluster as data, below every workflow.'),
    forbid(L.engine, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.resources, L.config, L.sandbox, L.kube, L.userdata], 'The engine imports no resource: it runs tasks and undoes journal entries through the registry it is given.'),
    forbid(L.resources, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.config, L.sandbox, L.kube, L.userdata], 'A resource knows one AWS kind, through src/aws and src/core only.'),
    forbid(L.provider, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.config, L.sandbox, L.kube, L.userdata], 'The provider kit is what engine and resources share: it knows neither.'),
    forbid(L.aws, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.provider, L.config, L.sandbox, L.kube, L.userdata], 'src/aws is the client layer: clients, lookups, tags, derived names and ARNs.'),
    forbid(L.core, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.provider, L.aws, L.config, L.sandbox, L.kube, L.userdata], 'core (errors, clock, events, waits) imports nothing of ours.'),
    forbid(L.config, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.provider, L.sandbox, L.kube, L.userdata], 'Config parses and checks input; it renders nothing.'),
    forbid(L.userdata, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.sandbox, L.kube], 'User data renders from values it is given.'),
    forbid(L.kube, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.sandbox], 'kube fetches and merges kubeconfigs from values it is given.'),
    forbid(L.sandbox, [L.commands, L.cli, L.ui, L.workflows, L.steps, L.model, L.engine, L.deps, L.resources, L.provider, L.config, L.kube, L.userdata], 'The sandbox simulates AWS: it knows the SDK\'s shapes, not our code.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
