using System.Reactive;
using System.Reactive.Concurrency;
using HmmRnn.Core;
using HmmRnn.Core.Ibl;
using HmmRnn.Host.Reactive;
using Microsoft.Reactive.Testing;

namespace HmmRnn.Host.Tests;

/// <summary>
/// The Bayesian observer as an Rx operator (<see cref="BayesianObserverOperators.ObserveBeliefs(IObservable{IblEvent}, IblTaskConfig, BlockModel, StimulusModel, StimulusPrior)"/>),
/// in virtual time: a hot stream of a real session's events, each belief against the fold written out by hand.
/// </summary>
public class ObserverOperatorTests : ReactiveTest
{
    private static readonly IblTaskConfig Config = IblTaskConfig.Paper;
    private const long FirstEvent = Subscribed + 10, Spacing = 10;  // ReactiveTest.Subscribed = 200

    /// <summary>
    /// A session of the task as the observer meets it: every step, and each trial's end with its revealed side,
    /// the Bayesian actor choosing the actions (so some trials time out and reveal nothing).
    /// </summary>
    private static List<IblEvent> Session(int trials, long seed)
    {
        var env = IblEnvironment.Start(Config, Rng.FromSeed(seed));
        var actor = BayesianObserver.Start(Config, BlockModel.SemiMarkov);
        var events = new List<IblEvent>();
        for (int n = 0; n < trials;)
        {
            var step = env.Current;
            events.Add(IblEvent.Of(step));
            actor = BayesianObserver.Observe(actor, step);
            (var outcome, env) = IblEnvironment.Advance(env, BayesianActor.Decide(DecisionRule.Threshold, actor, step));
            if (outcome is null) continue;
            events.Add(IblEvent.EndOf(outcome));
            actor = BayesianObserver.EndTrial(actor, outcome.RevealedSide);
            n++;
        }
        return events;
    }

    private static long TimeOf(int index) => FirstEvent + Spacing * index;

    private static Recorded<Notification<IblEvent>>[] Hot(IReadOnlyList<IblEvent> events, Recorded<Notification<IblEvent>>? end)
    {
        var messages = events.Select((e, i) => OnNext(TimeOf(i), e)).ToList();
        if (end is { } last) messages.Add(last);
        return [.. messages];
    }

    /// <summary>The fold written out: Observe on a step, EndTrial on a trial's end, one belief per event at its time.</summary>
    private static List<Recorded<Notification<Belief>>> FoldByHand(IReadOnlyList<IblEvent> events, int from, Belief start)
    {
        var expected = new List<Recorded<Notification<Belief>>>();
        var belief = start;
        for (int i = from; i < events.Count; i++)
        {
            belief = events[i] switch
            {
                IblEvent.Step s => BayesianObserver.Observe(belief, s.Value),
                IblEvent.TrialEnd t => BayesianObserver.EndTrial(belief, t.Revealed),
                _ => throw new InvalidOperationException(),
            };
            expected.Add(OnNext(TimeOf(i), belief));
        }
        return expected;
    }

    [Theory]
    [InlineData(BlockModel.Markov)]
    [InlineData(BlockModel.SemiMarkov)]
    public void Each_event_gives_the_hand_folded_belief_at_its_time_and_completion_passes_through(BlockModel model)
    {
        // Catches: trial ends dropped or applied as steps (the block belief would never learn, one belief
        // short per trial), the belief before an event emitted instead of after it, a belief emitted at
        // another time than its event, completion swallowed or the source left subscribed after it.
        var events = Session(trials: 12, seed: 1);
        // The data exercise both kinds of trial end, and blank steps (no evidence).
        Assert.Contains(events, e => e is IblEvent.TrialEnd { Revealed: null });
        Assert.Contains(events, e => e is IblEvent.TrialEnd { Revealed: not null });
        Assert.Contains(events, e => e is IblEvent.Step { Value.IsBlank: true });
        var scheduler = new TestScheduler();
        long done = TimeOf(events.Count);
        var source = scheduler.CreateHotObservable(Hot(events, OnCompleted<IblEvent>(done)));

        var observer = scheduler.Start(() => source.ObserveBeliefs(Config, model), created: Created, subscribed: Subscribed, disposed: done + 1000);

        var expected = FoldByHand(events, 0, BayesianObserver.Start(Config, model));
        expected.Add(OnCompleted<Belief>(done));
        Assert.Equal(expected, observer.Messages);
        Assert.Equal(new[] { Subscribe(Subscribed, done) }, source.Subscriptions);
    }

    [Fact]
    public void An_error_passes_through_after_the_beliefs_before_it()
    {
        // Catches an operator that swallows the source's error, turns it into completion, or loses the
        // beliefs already emitted.
        var events = Session(trials: 3, seed: 2);
        var scheduler = new TestScheduler();
        var failure = new InvalidOperationException("the recording broke off");
        var before = events.Take(5).ToList();
        long at = TimeOf(before.Count);
        var source = scheduler.CreateHotObservable(Hot(before, OnError<IblEvent>(at, failure)));

        var observer = scheduler.Start(() => source.ObserveBeliefs(Config, BlockModel.SemiMarkov), created: Created, subscribed: Subscribed, disposed: 10_000);

        var expected = FoldByHand(before, 0, BayesianObserver.Start(Config, BlockModel.SemiMarkov));
        expected.Add(OnError<Belief>(at, failure));
        Assert.Equal(expected, observer.Messages);
        Assert.Equal(new[] { Subscribe(Subscribed, at) }, source.Subscriptions);
    }

    [Fact]
    public void Two_subscriptions_fold_independently_each_from_the_start_belief()
    {
        // Catches an operator whose belief lives outside the subscription (a variable captured by a Select,
        // say): the second subscriber would continue the first one's fold instead of starting afresh, and
        // each event would be folded twice into the shared belief, corrupting the first subscriber's too.
        var events = Session(trials: 6, seed: 3);
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Hot(events, end: null));
        var beliefs = source.ObserveBeliefs(Config, BlockModel.SemiMarkov);
        var first = scheduler.CreateObserver<Belief>();
        var second = scheduler.CreateObserver<Belief>();
        int late = events.FindIndex(e => e is IblEvent.TrialEnd) + 1;  // the second joins after the first trial
        IDisposable? a = null, b = null;
        scheduler.ScheduleAbsolute(Subscribed, () => a = beliefs.Subscribe(first));
        scheduler.ScheduleAbsolute(TimeOf(late) - Spacing / 2, () => b = beliefs.Subscribe(second));
        scheduler.ScheduleAbsolute(TimeOf(events.Count) + 100, () => { a!.Dispose(); b!.Dispose(); });
        scheduler.Start();

        var start = BayesianObserver.Start(Config, BlockModel.SemiMarkov);
        Assert.Equal(FoldByHand(events, 0, start), first.Messages);
        Assert.Equal(FoldByHand(events, late, start), second.Messages);
        Assert.Equal(2, source.Subscriptions.Count);
    }

    [Fact]
    public void A_bad_configuration_is_refused_when_the_operator_is_applied_not_at_subscription()
    {
        // Catches a start belief built lazily inside the subscription, which would hide the error until
        // the first subscriber, far from the call that made it.
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable<IblEvent>();
        var e = Assert.Throws<ArgumentException>(() => source.ObserveBeliefs(Config with { Concordance = 1.5 }, BlockModel.Markov));
        Assert.Contains("Concordance", e.Message);
    }
}
