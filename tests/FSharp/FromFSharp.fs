/// The pure core read from idiomatic F#: records, pipelines, no out-parameters, no mutable state.
module HmmRnn.FSharp.FromFSharp

open Xunit
open HmmRnn.Core
open HmmRnn.Core.HiddenMarkov
open HmmRnn.Analysis.Dynamics
open HmmRnn.Analysis.HmmEmulation

let private initial = [| 0.5; 0.5 |]
let private transition = [| [| 0.9; 0.1 |]; [| 0.2; 0.8 |] |]
let private emission = [| [| 0.7; 0.3 |]; [| 0.1; 0.9 |] |]

/// A custom two-state "sticky coin" built from F# arrays.
let stickyCoin =
    Hmm(ProbabilityVector.Create initial, StochasticMatrix.FromRows transition, StochasticMatrix.FromRows emission)

/// P(o) by brute force: the sum over all 2^T state paths s of π(s_0) B(s_0, o_0) Π_t A(s_(t-1), s_t) B(s_t, o_t),
/// read straight from the arrays above (no filter, no scaling).
let bruteForceLikelihood (outputs: int[]) =
    let T = outputs.Length
    let rec paths t = if t = 0 then [ [] ] else [ for p in paths (t - 1) do for s in 0 .. 1 -> p @ [ s ] ]
    paths T
    |> List.sumBy (fun path ->
        path
        |> List.mapi (fun t s -> (if t = 0 then initial.[s] else transition.[path.[t - 1]].[s]) * emission.[s].[outputs.[t]])
        |> List.fold (*) 1.0)

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
    // The exact log-likelihood, by enumerating all 2^T state paths (T = 6 … 8): first steps of the sample
    // and sequences chosen by hand (long runs, alternation).
    let sequences =
        [ sample.Outputs.[0] |> Seq.take 8 |> Array.ofSeq
          sample.Outputs.[1] |> Seq.take 7 |> Array.ofSeq
          [| 0; 0; 0; 0; 0; 0 |]
          [| 1; 0; 1; 0; 1; 0; 1; 0 |]
          [| 1; 1; 1; 0; 0; 1; 1 |] ]
    for o in sequences do
        let exact = log (bruteForceLikelihood o)
        Assert.Equal(exact, (Filtering.Forward(stickyCoin, System.ReadOnlySpan o)).LogLikelihood, 12)
    // The enumeration itself sums to one over all 2^6 output sequences of length 6.
    let all6 = [ for k in 0 .. 63 -> Array.init 6 (fun t -> (k >>> t) &&& 1) ]
    Assert.Equal(1.0, all6 |> List.sumBy bruteForceLikelihood, 12)

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
