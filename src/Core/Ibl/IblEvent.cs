namespace HmmRnn.Core.Ibl;

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
