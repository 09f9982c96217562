/**
 * `lantian receive` alone: the real command, registered on a program of its own, so a consumer
 * process loads only what receiving needs (the full CLI loads every command, which several
 * consumers starting at once on a loaded machine pay for in seconds).
 */
import { Command } from 'commander';
import { registerReceive } from '../../../gateway/src/cli/commands/receive.js';

const program = new Command('lantian');
registerReceive(program);
await program.parseAsync(process.argv);
