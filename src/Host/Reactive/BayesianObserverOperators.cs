using System.Reactive.Linq;
using HmmRnn.Core.Ibl;

namespace HmmRnn.Host.Reactive;

/// <summary>
/// The exact Bayesian observer of the IBL task (<see cref="BayesianObserver"/>) as an Rx operator: a Scan of Core's fold step
/// <see cref="BayesianObserver.Apply"/> over Core's <see cref="IblEvent"/> (any other stream library, or F#'s List.scan, runs the same step).
/// </summary>
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
        return events.Scan(start, BayesianObserver.Apply);
    }
}
