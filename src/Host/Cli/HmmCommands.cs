using System.CommandLine;
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using Spectre.Console;
using HmmRnn.Host.Output;

namespace HmmRnn.Host.Cli;

/// <summary><c>hmm list</c> and <c>hmm stats NAME</c>: the paper's catalogue and its exact statistics.</summary>
internal static class HmmCommands
{
    public static Command Create()
    {
        var cmd = new Command("hmm", "The HMM catalogue of Torre et al. (2025): list the models, print their exact output statistics and the Sinkhorn loss's reference values.");

        var list = new Command("list", "List the catalogue: name, family, states, symbols, sequence length.");
        list.SetAction(_ =>
        {
            var t = new Table().AddColumns("name", "family", "states", "symbols", "T");
            foreach (var e in HmmCatalogue.Paper)
                t.AddTextRow(e.Name, e.Family.ToString(), e.Hmm.States.ToString(), e.Hmm.Symbols.ToString(), e.SequenceLength.ToString());
            AnsiConsole.Write(t);
            return 0;
        });
        cmd.Subcommands.Add(list);

        var name = new Argument<string>("name") { Description = "A catalogue model: " + string.Join(", ", HmmCatalogue.Names) };
        name.AcceptOnlyFromAmong([.. HmmCatalogue.Names]);
        var sequences = new Option<int>("--sequences") { Description = "Sequences to sample for the empirical check.", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => 0 };
        var stats = new Command("stats", "Exact stationary output statistics of a model, beside the same statistics from a sample.")
        {
            name, sequences, seed,
        };
        stats.SetAction(r =>
        {
            var n = r.GetValue(sequences);
            if (n < 1) return Cli.Refuse(sequences, n, "must be ≥ 1");
            if (Violation.AtMost("Sequences", n, MaxSequences) is { } tooMany) return Cli.Refuse(sequences, n, tooMany.Rule);
            Print(HmmCatalogue.Named(r.GetValue(name)!), n, r.GetValue(seed));
            return 0;
        });
        cmd.Subcommands.Add(stats);

        var model = new Argument<string>("name") { Description = "A catalogue model: " + string.Join(", ", HmmCatalogue.Names) };
        model.AcceptOnlyFromAmong([.. HmmCatalogue.Names]);
        var batch = new Option<int>("--batch") { Description = "Sequences a side: the training batch (quick 512, paper 4096).", DefaultValueFactory = _ => 512 };
        var baselineSeed = new Option<long>("--seed") { Description = "Seed of the samples.", DefaultValueFactory = _ => 0 };
        var baselines = new Command("baselines", "Where a Sinkhorn training loss stands for a model at a batch size: two HMM samples against each other " +
                                                  "(a perfect emulator) and i.i.d. symbols with the right frequencies against an HMM sample (the plateau of a network " +
                                                  "with no temporal structure; SPEC A3). Blur 0.2, scaling 0.5, as training.")
        {
            model, batch, baselineSeed,
        };
        baselines.SetAction(r =>
        {
            var n = r.GetValue(batch);
            if (n < 2) return Cli.Refuse(batch, n, "must be ≥ 2");
            // Two samples of n sequences and the n × n cost matrices of the Sinkhorn loss: the training batch's bound.
            if (Violation.AtMost("Batch", n, Tasks.Hmm.HmmDescriptor.MaxBatch) is { } tooMany) return Cli.Refuse(batch, n, tooMany.Rule);
            var entry = HmmCatalogue.Named(r.GetValue(model)!);
            var b = SinkhornBaselines.Of(entry.Hmm, entry.SequenceLength, n, Rng.FromSeed(r.GetValue(baselineSeed)));
            Console.WriteLine($"{entry.Name}, {n:N0} sequences a side, T = {entry.SequenceLength}: HMM vs HMM {Format.F(b.HmmVsHmm)}; i.i.d. symbols vs HMM {Format.F(b.IidVsHmm)}");
            return 0;
        });
        cmd.Subcommands.Add(baselines);
        return cmd;
    }

    /// <summary>The memory bound of <c>hmm stats --sequences</c>: 1,000,000 sampled sequences.</summary>
    public const int MaxSequences = 1_000_000;

    /// <summary>One table comparing exact and sampled statistics.</summary>
    public static void Print(CatalogueEntry entry, int sequences, long seed)
    {
        var hmm = entry.Hmm;
        var exact = HmmStatistics.Outputs(hmm);
        var sample = HmmSampling.Sample(hmm, sequences, entry.SequenceLength, Rng.FromSeed(seed));
        var empirical = EmpiricalStatistics.Outputs(sample.Outputs, hmm.Symbols);
        var t = new Table().Title($"{entry.Name}: {hmm.States} states, {hmm.Symbols} symbols, T = {entry.SequenceLength}")
            .Caption($"sampled: {sequences:N0} sequences, seed {seed}")
            .AddColumns("statistic", "exact", "sampled");
        t.AddTextRow("output frequencies", Format.Vector(exact.Frequencies.AsSpan()), Format.Vector(empirical.Frequencies.AsSpan()));
        for (int o = 0; o < hmm.Symbols; o++)
            t.AddTextRow($"P(o' | o = {o})", Format.Vector(exact.Transition.Row(o)), Format.Vector(empirical.Transition.Row(o)));
        t.AddTextRow("P(output changes)", Format.F(exact.ChangeProbability), Format.F(empirical.ChangeProbability));
        var ll = Filtering.LogLikelihoods(hmm, sample.Outputs);
        t.AddTextRow("mean log-likelihood / step", "", Format.F(ll.Average() / entry.SequenceLength));
        t.AddTextRow("transition squared error", "0", Format.F(EmpiricalStatistics.TransitionSquaredError(exact.Transition, empirical.Transition), 6));
        AnsiConsole.Write(t);
    }
}
