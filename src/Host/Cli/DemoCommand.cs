using System.CommandLine;
using HmmRnn.Core;

namespace HmmRnn.Host.Cli;

/// <summary><c>demo</c>: the quick default job a newcomer runs first.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("demo", "A quick tour on the CPU: every catalogue HMM's exact statistics against a sample of it.") { seed };
        cmd.SetAction(r =>
        {
            foreach (var e in HmmCatalogue.Paper) HmmCommands.Print(e, 2_000, r.GetValue(seed));
            return 0;
        });
        return cmd;
    }
}
