using System.Reactive.Linq;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Host.Reactive;

/// <summary>
/// What the Bayesian observer takes in from a live IBL session: a step's inputs, or the end of a trial
/// with the side it revealed. A stream of steps alone cannot say when a trial ended or what the agent
/// learnt (the true side is revealed only when the agent acted), so the end is an event of its own.
/// </summary>
public abstract record IblEvent
{
    private IblEvent() { }

    /// <summary>A step seen: its inputs are evidence (none on a blank step).</summary>
    /// <param name="Value">The step, as <see cref="IblEnvironment"/> or a recorded session gives it.</param>
    public sealed record Step(IblStep Value) : IblEvent;

    /// <summary>A trial ended: the block filter takes in the true side if it was revealed, and the evidence is cleared.</summary>
    /// <param name="Revealed">The stimulus side, known after an action; null after a time-out.</param>
    public sealed record TrialEnd(Side? Revealed) : IblEvent;

    /// <summary>The event for a step.</summary>
    public static IblEvent Of(IblStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return new Step(step);
    }

    /// <summary>The end of a trial as <see cref="IblEnvironment.Advance"/> reports it: its revealed side.</summary>
    public static IblEvent EndOf(IblOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return new TrialEnd(outcome.RevealedSide);
    }
}

/// <summary>The exact Bayesian observer of the IBL task (<see cref="BayesianObserver"/>) as an Rx operator.</summary>
public static class BayesianObserverOperators
{
    /// <summary>
    /// The observer's belief after each event: a fold of <see cref="BayesianObserver.Observe"/> over the steps and
    /// <see cref="BayesianObserver.EndTrial"/> at each trial's end, from <see cref="BayesianObserver.Start"/>.
    /// One belief per event, at the event's time; completion and errors pass through. Each subscription folds
    /// on its own from the start belief (the operator keeps no state between subscriptions).
    /// </summary>
    /// <exception cref="ArgumentException">the configuration is invalid (checked now, not at subscription).</exception>
    public static IObservable<Belief> ObserveBeliefs(this IObservable<IblEvent> events, IblTaskConfig config, BlockModel model,
        StimulusModel stimulusModel = StimulusModel.SharedContrast, StimulusPrior stimulusPrior = StimulusPrior.Concordance) =>
        events.ObserveBeliefs(BayesianObserver.Start(config, model, stimulusModel, stimulusPrior));

    /// <summary>The same fold from a given belief (e.g. one carried over from an earlier session).</summary>
    public static IObservable<Belief> ObserveBeliefs(this IObservable<IblEvent> events, Belief start)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(start);
        // Scan keeps its accumulator per subscription; the beliefs are immutable values.
        return events.Scan(start, Apply);
    }

    /// <summary>One event folded into a belief: the step function the operator scans with.</summary>
    public static Belief Apply(Belief belief, IblEvent e) => e switch
    {
        IblEvent.Step s => BayesianObserver.Observe(belief, s.Value),
        IblEvent.TrialEnd t => BayesianObserver.EndTrial(belief, t.Revealed),
        null => throw new ArgumentNullException(nameof(e)),
        _ => throw new ArgumentException($"unknown IBL event {e.GetType().Name}", nameof(e)),
    };
}
