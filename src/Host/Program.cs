using HmmRnn.Host.Cli;
using HmmRnn.Host.Training;
using Spectre.Console;

// Before the first tensor: large CPU tensors on transparent huge pages (HugePages explains; 1.6× a paper-preset step).
HugePages.Request();

// Redirected output (logs, CI, Slurm) has no terminal width: use a readable one.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 140;

// Signals are handled where work can stop cleanly (train, run); elsewhere the default applies, and
// every file is written atomically, so an interrupted command leaves no half-written output.
// Commands.Invoke: invariant culture, and the exit codes of the root's --help (0, 1, 2, 130).
return Commands.Invoke(args, new System.CommandLine.InvocationConfiguration { ProcessTerminationTimeout = null });
