//! The one way the bench puts sides side by side: rounds in which every side is measured once,
//! the order rotated each round. Load on a shared machine swings from one moment to the next;
//! alternating puts every side under the same swings, rotating keeps one side from always going
//! first (or last), and the rows compare the sides' medians (`report::median`), which ignore
//! the odd stall.
//!
//! What a "side" is and what one measurement does is the caller's: a fresh server process per
//! round (`throughput`), an in-process start (`startup`), one request or a block of them
//! (`client_overhead`), a child process (`cli_process`).

use anyhow::Result;

/// Runs `rounds` rounds; in round `r` every side of `sides` is measured once by
/// `measure(r, side)`, starting with side `r % sides.len()`. Returns each side's samples, in
/// the order of `sides`.
pub async fn alternate<S: Copy, T>(
    rounds: usize,
    sides: &[S],
    mut measure: impl AsyncFnMut(usize, S) -> Result<T>,
) -> Result<Vec<Vec<T>>> {
    let mut samples: Vec<Vec<T>> = sides.iter().map(|_| Vec::with_capacity(rounds)).collect();
    for round in 0..rounds {
        for turn in 0..sides.len() {
            let side = (round + turn) % sides.len();
            samples[side].push(measure(round, sides[side]).await?);
        }
    }
    Ok(samples)
}

/// Two sides, ours first: `(ours, baseline)` samples of [`alternate`] over `[true, false]`
/// (`measure` gets `true` on our turn).
pub async fn ours_and_baseline<T>(
    rounds: usize,
    mut measure: impl AsyncFnMut(bool) -> Result<T>,
) -> Result<(Vec<T>, Vec<T>)> {
    let mut sides = alternate(rounds, &[true, false], async |_, ours| measure(ours).await)
        .await?
        .into_iter();
    let ours = sides.next().unwrap_or_default();
    let baseline = sides.next().unwrap_or_default();
    Ok((ours, baseline))
}

/// One side measured `rounds` times.
pub async fn repeat<T>(
    rounds: usize,
    mut measure: impl AsyncFnMut() -> Result<T>,
) -> Result<Vec<T>> {
    let mut sides = alternate(rounds, &[()], async |_, ()| measure().await).await?;
    Ok(sides.pop().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_side_once_a_round_with_the_first_side_rotating() -> Result<()> {
        let mut order = Vec::new();
        let samples = alternate(3, &['a', 'b', 'c'], async |round, side| {
            order.push(side);
            Ok((round, side))
        })
        .await?;
        assert_eq!(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
        assert_eq!(samples[1], [(0, 'b'), (1, 'b'), (2, 'b')]);
        Ok(())
    }

    #[tokio::test]
    async fn ours_and_baseline_swap_who_goes_first_each_round() -> Result<()> {
        let mut order = Vec::new();
        let (ours, baseline) = ours_and_baseline(4, async |ours| {
            order.push(ours);
            Ok(if ours { 1 } else { 2 })
        })
        .await?;
        assert_eq!(order, [true, false, false, true, true, false, false, true]);
        assert_eq!((ours, baseline), (vec![1; 4], vec![2; 4]));
        Ok(())
    }

    #[tokio::test]
    async fn a_failed_measurement_stops_the_rounds() {
        let mut calls = 0;
        let result = repeat(5, async || {
            calls += 1;
            anyhow::ensure!(calls < 2, "second call fails");
            Ok(calls)
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 2);
    }
}
