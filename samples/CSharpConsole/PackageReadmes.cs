// The usage examples of the package READMEs (src/Core/README.md, src/Analysis/README.md), line for
// line, so that CI compiles them: PackageReadmeTests (tests/Properties) fails when a README's example
// has a line that is not here. Run them: dotnet run --project samples/CSharpConsole -- readme
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Analysis.Ibl;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Samples;

/// <summary>The package READMEs' examples.</summary>
public static class PackageReadmes
{
    /// <summary>src/Core/README.md.</summary>
    public static void Core()
    {
        var entry = HmmCatalogue.Named("linear3");                      // or HmmCatalogue.LinearChain(7), new Hmm(π, A, B)
        var sample = HmmSampling.Sample(entry.Hmm, sequences: 10, length: entry.SequenceLength, Rng.FromSeed(42));
        var filter = Filtering.Start(entry.Hmm);                        // a live stream, one output at a time
        foreach (var o in sample.Outputs[0])
            filter = Filtering.Observe(filter, o);                      // P(z_t | o_0..t) and log P(o_0..t)
        var whole = Filtering.Forward(entry.Hmm, sample.Outputs[0]);    // the same numbers, all steps at once
        var path = Filtering.Viterbi(entry.Hmm, sample.Outputs[0]).Path;
        Console.WriteLine($"log P(o) = {filter.LogLikelihood:F3} = {whole.LogLikelihood:F3}; P(z_T | o) = {filter.Filtered}");
        Console.WriteLine($"most probable states: {string.Join("", path)}");
    }

    /// <summary>src/Analysis/README.md.</summary>
    public static void Analysis()
    {
        var entry = HmmCatalogue.Named("linear3");
        var sample = HmmSampling.Sample(entry.Hmm, sequences: 2000, length: entry.SequenceLength, Rng.FromSeed(7));
        var seen = EmpiricalStatistics.Outputs(sample.Outputs, entry.Hmm.Symbols);   // or your RNN's outputs
        var error = EmpiricalStatistics.TransitionSquaredError(seen.Transition, HmmStatistics.Outputs(entry.Hmm).Transition);
        Console.WriteLine($"transition-matrix error {error:E2} (the paper's bar for an emulator: 0.01)");
        var trials = IblSimulation.Run(IblTaskConfig.Paper, BayesianAgent.SemiMarkov, trials: 2000, Rng.FromSeed(1));
        var summary = IblBehaviour.Summarise("semi-Markov observer", trials);
        Console.WriteLine($"{summary.Agent}: {summary.AccuracyTimeoutsWrong:P1} correct, {summary.MeanObservationSteps:F1} steps to act");
    }
}
