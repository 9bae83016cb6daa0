// HmmRnn's pure core embedded in a console program: an HMM filtered live, and the IBL task's exact
// Bayesian observer riding along an agent one step at a time. Run: dotnet run --project samples/CSharpConsole
// (add "readme" to run the packages' README examples, PackageReadmes.cs, instead).
using HmmRnn.Analysis.HmmEmulation;
using HmmRnn.Core;
using HmmRnn.Core.HiddenMarkov;
using HmmRnn.Core.Ibl;
using HmmRnn.Samples;

if (args is ["readme"])
{
    PackageReadmes.Core();
    PackageReadmes.Analysis();
    return;
}

// 1. A catalogue HMM, sampled, and its outputs filtered as they arrive.
var entry = HmmCatalogue.Named("linear3");
var hmm = entry.Hmm;
var sample = HmmSampling.Sample(hmm, sequences: 1, length: 12, Rng.FromSeed(42));
Console.WriteLine($"{entry.Name}: {hmm.States} states, {hmm.Symbols} symbols; filtering one sequence as it arrives");
Console.WriteLine(" t  output  true state  P(z_t | o_0..t)");
var filter = Filtering.Start(hmm);
foreach (var (output, state, t) in LiveStream(sample))
{
    filter = Filtering.Observe(filter, output);             // one step of the forward filter
    Console.WriteLine($"{t,2}  {output,6}  {state,10}  {filter.Filtered}");
}
Console.WriteLine($"log P(o) = {filter.LogLikelihood:F4} (the whole-sequence filter: {Filtering.Forward(hmm, sample.Outputs[0]).LogLikelihood:F4})");

// The same model's statistics from a larger sample, against the exact ones (Analysis).
var many = HmmSampling.Sample(hmm, sequences: 2000, length: entry.SequenceLength, Rng.FromSeed(7));
var seen = EmpiricalStatistics.Outputs(many.Outputs, hmm.Symbols);
var error = EmpiricalStatistics.TransitionSquaredError(seen.Transition, HmmStatistics.Outputs(hmm).Transition);
Console.WriteLine($"2000 sampled sequences: output transition-matrix error {error:E2} against the exact matrix");
Console.WriteLine();

// 2. The IBL task, stepped by an agent (here the Bayesian actor itself; any agent's actions would do),
//    with the exact observer folding in each step and learning the true side at each trial's end.
var config = IblTaskConfig.Paper;
var env = IblEnvironment.Start(config, Rng.FromSeed(1));
var belief = BayesianObserver.Start(config, BlockModel.SemiMarkov);
Console.WriteLine("IBL task, exact semi-Markov observer: one line per trial");
Console.WriteLine("trial  block  stimulus  contrast  steps  P(stimulus right)  action   P(next block right)");
int trials = 0, correct = 0;
while (trials < 12)
{
    var step = env.Current;
    belief = BayesianObserver.Observe(belief, step);                        // evidence from this step
    var action = BayesianActor.Decide(DecisionRule.Threshold, belief, step); // or your agent's choice
    var posterior = BayesianObserver.StimulusPosteriorRight(belief);
    (var outcome, env) = IblEnvironment.Advance(env, action);
    if (outcome is null) continue;                                           // the trial goes on
    belief = BayesianObserver.EndTrial(belief, outcome.RevealedSide);        // the side, if it acted
    var t = outcome.Trial;
    Console.WriteLine($"{t.Index,5}  {t.BlockSide,5}  {t.StimulusSide,8}  {t.Contrast,8:F4}  {outcome.ObservationSteps,5}  {posterior,17:F3}  " +
                      $"{outcome.Action?.ToString() ?? "timeout",-7}  {belief.Block.PriorRight,19:F3}");
    trials++;
    if (outcome.Correct) correct++;
}
Console.WriteLine($"{correct} of {trials} correct");

// Outputs as they would arrive from a live source, with the hidden state beside them for display.
static IEnumerable<(int Output, int State, int T)> LiveStream(HmmSample sample)
{
    for (int t = 0; t < sample.Length; t++) yield return (sample.Outputs[0][t], sample.States[0][t], t);
}
