// The quantlens command line: dispatch to one file per command, turn typed errors into one line and an exit code
// (2: usage, 1: failure), never a stack trace unless QUANTLENS_DEBUG is set.

import { isQuantlensError, describeError } from '../errors.js';
import { quantlensVersion } from '../version.js';
import { helpText, parseCommand, type CommandSpec, type Parsed } from './args.js';
import { escapeControls } from './output.js';
import { inspectSpec, runInspect } from './inspect.js';
import { evalSpec, runEval } from './eval.js';
import { quantizeSpec, runQuantize } from './quantize.js';
import { tableSpec, runTable } from './table.js';
import { stressSpec, runStress } from './stress.js';
import { sampleSpec, runSample } from './sample.js';
import { calibSetSpec, runCalibSet } from './calib-set.js';
import { analyzeSpec, runAnalyze } from './analyze.js';
import { reportSpec, runReport } from './report.js';

interface Command {
  spec: CommandSpec;
  run: (p: Parsed) => void | Promise<void>;
}

const commands: Command[] = [
  { spec: inspectSpec, run: runInspect },
  { spec: evalSpec, run: runEval },
  { spec: quantizeSpec, run: runQuantize },
  { spec: tableSpec, run: runTable },
  { spec: stressSpec, run: runStress },
  { spec: sampleSpec, run: runSample },
  { spec: calibSetSpec, run: runCalibSet },
  { spec: analyzeSpec, run: runAnalyze },
  { spec: reportSpec, run: runReport },
];

function mainHelp(): string {
  const rows = commands.map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`);
  return `quantlens ${quantlensVersion}: analyze, quantize (PTQ), evaluate and export ONNX vision transformers and diffusion models

Usage: quantlens <command> [options]

Commands:
${rows.join('\n')}

Run \`quantlens <command> --help\` for a command's options.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${quantlensVersion}\n`);
    return 0;
  }
  const command = commands.find((c) => c.spec.name === name);
  try {
    if (command === undefined) {
      process.stderr.write(
        `error: unknown command "${name}"\nhint: commands are ${commands.map((c) => c.spec.name).join(', ')}\n`,
      );
      return 2;
    }
    const parsed = parseCommand(command.spec, rest);
    if (parsed.help) {
      process.stdout.write(helpText(command.spec));
      return 0;
    }
    await command.run(parsed);
    return 0;
  } catch (e) {
    if (process.env.QUANTLENS_DEBUG) console.error(e);
    if (isQuantlensError(e)) {
      const hint = e.hint === undefined ? '' : `hint: ${escapeControls(e.hint)}\n`;
      process.stderr.write(`error: ${escapeControls(e.message)}\n${hint}`);
      return e.kind === 'usage' ? 2 : 1;
    }
    process.stderr.write(
      `internal error: ${escapeControls(describeError(e))}\nhint: rerun with QUANTLENS_DEBUG=1 and report it\n`,
    );
    return 1;
  }
}
