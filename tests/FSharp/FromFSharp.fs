/// The pure core read from idiomatic F#: records, pipelines, no out-parameters, no mutable state.
module HmmRnn.FSharp.FromFSharp

open Xunit
open HmmRnn.Core
open HmmRnn.Analysis

/// A custom two-state "sticky coin" built from F# arrays.
let stickyCoin =
    Hmm(ProbabilityVector.Create [| 0.5; 0.5 |],
        StochasticMatrix.FromRows [| [| 0.9; 0.1 |]; [| 0.2; 0.8 |] |],
        StochasticMatrix.FromRows [| [| 0.7; 0.3 |]; [| 0.1; 0.9 |] |])

[<Fact>]
let ``a custom HMM samples, filters and summarises from F#`` () =
    let sample = HmmSampling.Sample(stickyCoin, 200, 25, Rng.FromSeed 42L)
    let totalLogLik =
        sample.Outputs
        |> Seq.map (fun o -> (Filtering.Forward(stickyCoin, o)).LogLikelihood)
        |> Seq.sum
    // Each step's predictive probability is at most 0.9, so log-likelihood per step < log 0.9 < 0.
    Assert.True(totalLogLik < float (200 * 25) * log 0.9)
    Assert.True(totalLogLik > float (200 * 25) * log 0.1)
    // The filter's last posterior is a distribution.
    let last = (Filtering.Forward(stickyCoin, sample.Outputs.[0])).Filtered |> Seq.last
    Assert.Equal(1.0, last.Values |> Seq.sum, 12)

[<Fact>]
let ``stationary law of the sticky coin is (2/3, 1/3)`` () =
    // π A = π with A = [[.9 .1] [.2 .8]]: π0 · 0.1 = π1 · 0.2, so π = (2/3, 1/3).
    let pi = HmmStatistics.Stationary stickyCoin
    Assert.Equal(2.0 / 3.0, pi.[0], 12)
    Assert.Equal(1.0 / 3.0, pi.[1], 12)

[<Fact>]
let ``catalogue models by name and empirical statistics compose in a pipeline`` () =
    let entry = HmmCatalogue.Named "linear2"
    let stats =
        HmmSampling.Sample(entry.Hmm, 500, entry.SequenceLength, Rng.FromSeed 1L).Outputs
        |> fun outputs -> EmpiricalStatistics.Outputs(outputs, entry.Hmm.Symbols)
    let truth = HmmStatistics.Outputs entry.Hmm
    Assert.True(EmpiricalStatistics.TransitionSquaredError(stats.Transition, truth.Transition) < 0.01)

open HmmRnn.Core.Ibl

/// A fold over the environment with an exact Bayesian observer and the threshold rule: no mutable state.
let playTrials (config: IblTaskConfig) (trials: int) (seed: int64) =
    let rec loop (env: IblState) (belief: Belief) (acc: IblOutcome list) =
        if List.length acc = trials then List.rev acc
        else
            let step = env.Current
            let belief = BayesianObserver.Observe(belief, step)
            let action = BayesianActor.Decide(DecisionRule.Threshold, belief, step)
            let struct (outcome, next) = IblEnvironment.Advance(env, action)
            // The outcome is null while the trial goes on (C# 'IblOutcome?', F# 'IblOutcome | null').
            match outcome with
            | null -> loop next belief acc
            | o -> loop next (BayesianObserver.EndTrial(belief, o.RevealedSide)) (o :: acc)
    loop (IblEnvironment.Start(config, Rng.FromSeed seed)) (BayesianObserver.Start(config, BlockModel.SemiMarkov)) []

[<Fact>]
let ``the Bayesian observer embeds in an F# fold over the IBL environment`` () =
    let outcomes = playTrials IblTaskConfig.Paper 2000 7L
    Assert.Equal(2000, outcomes.Length)
    let accuracyWhenActing =
        outcomes |> List.filter (fun o -> not o.TimedOut) |> List.averageBy (fun o -> if o.Correct then 1.0 else 0.0)
    // An exact observer acting only above 0.9 confidence is right on far more than 90% of its actions
    // in expectation (calibration); 2,000 trials give a standard error below 0.01.
    Assert.True(accuracyWhenActing > 0.9, sprintf "accuracy when acting %.3f" accuracyWhenActing)

open System.Collections.Immutable

[<Fact>]
let ``RADD distils a one-unit tanh integrator written as an F# unfold`` () =
    // Teacher: u_t = tanh(0.8 u_(t-1) + 0.5 o_t - 0.1) on inputs o_t = sin t. With κ = 1 the
    // closed-form regression must return exactly A' = 0.8, B' = 0.5, c' = -0.1.
    let inputs = [ for t in 0 .. 49 -> sin (float t) ]
    let states =
        inputs |> List.tail
        |> List.scan (fun u o -> tanh (0.8 * u + 0.5 * o - 0.1)) 0.3
    let column (xs: float list) = xs |> List.map (fun x -> ImmutableArray.Create x) |> ImmutableArray.CreateRange
    let model = Radd.Fit([ RaddSequence(column states, column inputs) ], RaddOptions(Scale = 1.0))
    Assert.Equal(0.8, model.A(0, 0), 9)
    Assert.Equal(0.5, model.B(0, 0), 9)
    Assert.Equal(-0.1, model.Bias.[0], 9)
