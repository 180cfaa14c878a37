/** Sent at initialize: a few lines that tell an assistant how to use this server. */
export const serverInstructions = [
  'This server runs your commands under mirrord against a live Kubernetes workload, so a script, a test suite or',
  "your modified service runs with the target pod's network, environment and files, without building or deploying.",
  'Use `run` with `cmd_str` and a target: `deployment` (a deployment name) or `target` (pod/NAME, deployment/NAME,',
  'rollout/NAME, optionally /container/C, or targetless), plus `namespace` when it is not the default.',
  'Do not guess names: `list_targets` gives the exact target strings, with ready replicas, containers and ports.',
  'A wrong, unready or unknown target is refused before mirrord starts, with near-miss suggestions.',
  'When something about the cluster fails (KUBE_* errors), `server_info` says what is missing and how to fix it.',
  "Pass variables your program must see in `env` (they win over the pod's), a build step in `setup_cmd`, and mirrord",
  'options in `mirrord_config` (e.g. {"feature":{"network":{"incoming":"mirror"}}}).',
  'A result\'s `phase` says where it ended: "setup" = setup_cmd failed; "mirrord" = mirrord failed before your',
  'program started (read `mirrord_error`: often a wrong target or namespace); "program" = your command ran and',
  '`exit_code` is its own. Large output keeps its head and tail (`stdout_truncated`).',
  'When the server has workspaces, commands run in a workspace the developer synced (`workspace` plus a `cwd`',
  'relative to it): `workspace_list` shows workspaces and their files, `workspace_read_file` reads one, and',
  '`workspace_write_files` makes small edits atomically (the next sync from the developer replaces them).',
].join('\n');
