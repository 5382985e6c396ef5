/**
 * `completion bash|zsh|fish`: a shell completion script made from the commands as registered (so
 * it never lags them): commands, each one's options, and session ids where a command takes one
 * (from the hidden `sessionlog __ids`, which lists the ids of the store in $SESSIONLOG_DIR or the
 * default folder: one readdir, fast enough to run at each Tab).
 */
import type { Command } from 'commander';
import { action, type Context, EXIT, usage } from '../context.js';
import { examples } from './shared.js';

interface Shape {
  readonly name: string;
  readonly options: string[];
  readonly takesId: boolean;
}

function shapes(program: Command): Shape[] {
  return program.commands
    .filter((c) => !c.name().startsWith('__'))
    .flatMap((c) => {
      const own: Shape = {
        name: c.name(),
        options: c.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined),
        takesId: c.registeredArguments.some((a) => a.name() === 'id' || a.name() === 'name'),
      };
      // `trash list|restore|empty`: the subcommands complete as the first argument.
      return c.commands.length > 0 ? [{ ...own, options: [...own.options, ...c.commands.map((s) => s.name())] }] : [own];
    });
}

function bash(program: Command): string {
  const list = shapes(program);
  const options = list.map((s) => `    ${s.name}) opts="${s.options.join(' ')} --dir --no-color --no-pager --help" ;;`).join('\n');
  const ids = list.filter((s) => s.takesId).map((s) => s.name).join('|');
  return `# sessionlog completion for bash: add to ~/.bashrc
#   source <(sessionlog completion bash)
_sessionlog() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in --dir) ((i++)) ;; -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W "${list.map((s) => s.name).join(' ')} --dir --no-color --no-pager --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${options}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    case "$cmd" in
      ${ids || '__none'}) COMPREPLY=( $(compgen -W "@ $(sessionlog __ids 2>/dev/null)" -- "$cur") ) ;;
      *) COMPREPLY=( $(compgen -W "$opts" -- "$cur") ) ;;
    esac
  fi
}
complete -o default -F _sessionlog sessionlog
`;
}

function zsh(program: Command): string {
  // zsh runs the bash function through bashcompinit: one script to keep right, not two.
  return `# sessionlog completion for zsh: add to ~/.zshrc
#   source <(sessionlog completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(program).split('\n').filter((line) => !line.startsWith('#')).join('\n')}`;
}

function fish(program: Command): string {
  const list = shapes(program);
  const lines = ['# sessionlog completion for fish: sessionlog completion fish > ~/.config/fish/completions/sessionlog.fish', 'complete -c sessionlog -f'];
  lines.push(`complete -c sessionlog -n __fish_use_subcommand -a "${list.map((s) => s.name).join(' ')}"`);
  lines.push('complete -c sessionlog -l dir -r -d "store folder"', 'complete -c sessionlog -l no-color', 'complete -c sessionlog -l no-pager');
  for (const s of list) {
    const when = `__fish_seen_subcommand_from ${s.name}`;
    for (const flag of s.options) {
      if (flag.startsWith('--')) lines.push(`complete -c sessionlog -n "${when}" -l ${flag.slice(2)}`);
      else if (flag.startsWith('-')) lines.push(`complete -c sessionlog -n "${when}" -s ${flag.slice(1)}`);
      else lines.push(`complete -c sessionlog -n "${when}" -a ${flag}`);
    }
    if (s.takesId) lines.push(`complete -c sessionlog -n "${when}" -a "@ (sessionlog __ids 2>/dev/null)"`);
  }
  return `${lines.join('\n')}\n`;
}

async function completion(ctx: Context, shell: string, program: Command): Promise<number> {
  const make = { bash, zsh, fish }[shell as 'bash' | 'zsh' | 'fish'];
  if (make === undefined) throw usage(`no completion for ${JSON.stringify(shell)}: choose bash, zsh or fish`);
  ctx.out(make(program));
  return EXIT.OK;
}

async function ids(ctx: Context): Promise<number> {
  const store = await ctx.open();
  ctx.out((await store.ids()).map((id) => `${id}\n`).join(''));
  return EXIT.OK;
}

/** Registers `completion` and the hidden `__ids` it calls. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: commands, options and session ids on Tab')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', examples(['source <(sessionlog completion bash)   # in ~/.bashrc', 'source <(sessionlog completion zsh)    # in ~/.zshrc', 'sessionlog completion fish > ~/.config/fish/completions/sessionlog.fish']))
    .action(action((ctx: Context, shell: string) => completion(ctx, shell, program)));
  program.command('__ids', { hidden: true }).action(action(ids));
}
