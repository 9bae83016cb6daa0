// HmmRnn's pure core from an F# script: a catalogue HMM filtered as its outputs arrive, and the IBL
// task's exact Bayesian observer folded over a stream of steps. Records, pipelines, folds; no mutation.
//
// It loads the built library, so build first (from the repository root):
//     dotnet build src/Core
//     dotnet fsi samples/fsharp/observer.fsx
// (CI runs it after the tests, whose build puts the library where the #r below looks.)
// HmmRnn.Analysis loads the same way once its dependency is there too:
//     #r "nuget: MathNet.Numerics, 5.0.0"
//     #r "../../src/Analysis/bin/Debug/net10.0/HmmRnn.Analysis.dll"
#r "../../src/Core/bin/Debug/net10.0/HmmRnn.Core.dll"

open HmmRnn.Core
open HmmRnn.Core.HiddenMarkov
open HmmRnn.Core.Ibl

// 1. A catalogue HMM, sampled; its outputs filtered one at a time (Filtering.Observe is the fold's step).
let entry = HmmCatalogue.Named "linear3"
let sample = HmmSampling.Sample(entry.Hmm, 1, 12, Rng.FromSeed 42L)
let outputs = sample.Outputs.[0] |> List.ofSeq

printfn "%s: filtering one sequence as it arrives" entry.Name
let posteriors = outputs |> List.scan (fun state o -> Filtering.Observe(state, o)) (Filtering.Start entry.Hmm) |> List.tail
for (t, (o, state)) in List.zip outputs posteriors |> List.indexed do
    printfn "%2d  output %d  true state %d  P(z_t | o_0..t) = %O" t o sample.States.[0].[t] state.Filtered

let last = List.last posteriors
let whole = Filtering.Forward(entry.Hmm, sample.Outputs.[0])
printfn "log P(o) = %.4f (whole-sequence filter: %.4f)" last.LogLikelihood whole.LogLikelihood
if last.LogLikelihood <> whole.LogLikelihood then failwith "the step filter and the whole-sequence filter disagree"

// 2. The IBL task as a stream: the environment unfolds into Core's IblEvents (a step seen, a trial ended) as the
//    Bayesian actor acts; the observer folds over them with BayesianObserver.Apply, the step Host's Rx operator scans with.
let config = IblTaskConfig.Paper
let agent = BayesianAgent.SemiMarkov

/// One trial played by the actor on its own belief: the trial's events, the next state, the belief after it.
let rec playTrial (env: IblState) (belief: Belief) seen =
    let step = env.Current
    let belief = BayesianObserver.Observe(belief, step)
    let action = BayesianActor.Decide(agent.Rule, belief, step)
    let struct (outcome, next) = IblEnvironment.Advance(env, action)
    match outcome with
    | null -> playTrial next belief ((IblEvent.Of step, None) :: seen)
    | o -> List.rev ((IblEvent.EndOf o, Some o) :: (IblEvent.Of step, None) :: seen), next, BayesianObserver.EndTrial(belief, o.RevealedSide)

/// A session as a lazy stream of trials, each a list of events.
let session rng =
    (IblEnvironment.Start(config, rng), agent.Start config)
    |> Seq.unfold (fun (env, belief) ->
        let events, env, belief = playTrial env belief []
        Some(events, (env, belief)))

// Each event is kept with its trial's outcome (at a trial's end) for the printout below.
let events = session (Rng.FromSeed 1L) |> Seq.truncate 12 |> Seq.concat |> List.ofSeq
let beliefs = events |> List.map fst |> List.scan (fun b e -> BayesianObserver.Apply(b, e)) (BayesianObserver.Start(config, BlockModel.SemiMarkov)) |> List.tail

printfn "\nIBL task, exact semi-Markov observer: one line per trial"
List.zip events beliefs
|> List.pairwise
|> List.choose (fun ((_, before), ((_, outcome), after)) ->
    outcome |> Option.map (fun o -> o, BayesianObserver.StimulusPosteriorRight before, after.Block.PriorRight))
|> List.iter (fun (o, posterior, nextBlock) ->
    let action = if o.TimedOut then "timeout" else string o.Action.Value
    printfn "trial %2d  block %-5O  stimulus %-5O  contrast %.4f  P(right) %.3f  %-7s  P(next block right) %.3f"
        o.Trial.Index o.Trial.BlockSide o.Trial.StimulusSide o.Trial.Contrast posterior action nextBlock)

let outcomes = events |> List.choose snd
printfn "%d of %d correct" (outcomes |> List.filter (fun o -> o.Correct) |> List.length) outcomes.Length
