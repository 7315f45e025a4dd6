//! One dedicated OS thread per model, fed over a channel.
//!
//! Callers (async or blocking) send a job — their inputs and a `oneshot` for the answer. The
//! thread takes the first job, then everything else already waiting, prepares all inputs
//! together (tokenises), sorts them by cost (token count), cuts them into runs of at most
//! `max_batch` (where padding to a run's longest would cost more than another run, a new
//! run starts: see [`plan_batches`]), and sends every caller its outputs in its own order.
//! Under load this batches texts of many callers into one run; when idle a lone request
//! runs at once.

use std::sync::{Arc, mpsc};

use tokio::sync::oneshot;

use super::InferenceError;

/// A model as the queue thread drives it.
pub(crate) trait Engine: Send + 'static {
    /// One input as callers give it (a text, a picture).
    type Input: Send + 'static;
    /// One input ready to batch (token ids, a normalised tensor).
    type Prepared;
    /// One answer (an embedding, labels).
    type Output: Send + 'static;

    /// Prepares every input, one result per input, in order.
    fn prepare(&mut self, inputs: Vec<Self::Input>) -> Vec<Result<Self::Prepared, InferenceError>>;

    /// The cost of one prepared input in a batch (its length: a run costs its size times
    /// its longest input, padding included).
    fn cost(prepared: &Self::Prepared) -> usize;

    /// The fixed cost of one run, in the units of [`cost`](Self::cost): the planner
    /// starts a new run when padding would cost more than that.
    const RUN_OVERHEAD: usize;

    /// Runs one batch; one output per input, in order.
    fn run(&mut self, batch: &[&Self::Prepared]) -> Result<Vec<Self::Output>, InferenceError>;
}

type Reply<O> = oneshot::Sender<Result<Vec<O>, InferenceError>>;
type Answer<O> = oneshot::Receiver<Result<Vec<O>, InferenceError>>;

struct Job<E: Engine> {
    inputs: Vec<E::Input>,
    reply: Reply<E::Output>,
}

/// A handle on a model's thread; clones share the thread, which ends when the last handle
/// is dropped.
pub(crate) struct Queue<E: Engine> {
    sender: mpsc::Sender<Job<E>>,
    name: &'static str,
}

impl<E: Engine> Clone for Queue<E> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            name: self.name,
        }
    }
}

/// How many inputs one round of the thread takes from the queue at most (the first job
/// is always taken whole): enough to sort well, few enough that an early caller is not
/// kept waiting behind a long backlog.
pub(crate) fn max_pending(max_batch: usize) -> usize {
    max_batch.max(1) * 8
}

impl<E: Engine> Queue<E> {
    /// Starts the thread that owns `engine`.
    pub(crate) fn start(
        engine: E,
        name: &'static str,
        max_batch: usize,
    ) -> Result<Self, InferenceError> {
        let (sender, receiver) = mpsc::channel::<Job<E>>();
        let max_batch = max_batch.max(1);
        std::thread::Builder::new()
            .name(format!("{name}-inference"))
            .spawn(move || worker(engine, receiver, max_batch, name))
            .map_err(|error| InferenceError::Spawn {
                name,
                source: Arc::new(error),
            })?;
        Ok(Self { sender, name })
    }

    fn send(&self, inputs: Vec<E::Input>) -> Result<Answer<E::Output>, InferenceError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job { inputs, reply })
            .map_err(|_| InferenceError::Stopped(self.name))?;
        Ok(answer)
    }

    /// Runs `inputs` on the model's thread and waits without blocking the runtime.
    pub(crate) async fn submit(
        &self,
        inputs: Vec<E::Input>,
    ) -> Result<Vec<E::Output>, InferenceError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let answer = self.send(inputs)?;
        answer
            .await
            .map_err(|_| InferenceError::Stopped(self.name))?
    }

    /// Runs `inputs` on the model's thread and blocks this thread until done. Not for use
    /// inside an async runtime (it panics there, as `blocking_recv` does).
    pub(crate) fn submit_blocking(
        &self,
        inputs: Vec<E::Input>,
    ) -> Result<Vec<E::Output>, InferenceError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let answer = self.send(inputs)?;
        answer
            .blocking_recv()
            .map_err(|_| InferenceError::Stopped(self.name))?
    }
}

fn worker<E: Engine>(
    mut engine: E,
    receiver: mpsc::Receiver<Job<E>>,
    max_batch: usize,
    name: &'static str,
) {
    let limit = max_pending(max_batch);
    while let Ok(first) = receiver.recv() {
        let mut taken = first.inputs.len();
        let mut jobs = vec![first];
        while taken < limit {
            match receiver.try_recv() {
                Ok(job) => {
                    taken += job.inputs.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        // Callers that gave up (dropped their future) are not worth computing for.
        jobs.retain(|job| !job.reply.is_closed());
        if jobs.is_empty() {
            continue;
        }
        tracing::trace!(
            model = name,
            jobs = jobs.len(),
            inputs = taken,
            "inference round"
        );
        process(&mut engine, jobs, max_batch);
    }
    tracing::debug!(
        model = name,
        "inference thread stopped: every handle dropped"
    );
}

/// Where each input of a round came from: (job, position in the job).
type Owner = (usize, usize);

fn process<E: Engine>(engine: &mut E, jobs: Vec<Job<E>>, max_batch: usize) {
    let mut owners: Vec<Owner> = Vec::new();
    let mut inputs = Vec::new();
    let mut replies = Vec::with_capacity(jobs.len());
    let mut slots: Vec<Vec<Option<E::Output>>> = Vec::with_capacity(jobs.len());
    for (job_index, job) in jobs.into_iter().enumerate() {
        slots.push((0..job.inputs.len()).map(|_| None).collect());
        for (position, input) in job.inputs.into_iter().enumerate() {
            owners.push((job_index, position));
            inputs.push(input);
        }
        replies.push(job.reply);
    }
    let mut failed: Vec<Option<InferenceError>> = vec![None; replies.len()];

    let count = inputs.len();
    let prepared = engine.prepare(inputs);
    let mut ready_owners = Vec::with_capacity(count);
    let mut ready = Vec::with_capacity(count);
    if prepared.len() != count {
        let error = InferenceError::InvalidModel(format!(
            "prepared {} inputs out of {count}",
            prepared.len()
        ));
        failed
            .iter_mut()
            .for_each(|slot| *slot = Some(error.clone()));
    } else {
        for (owner, result) in owners.into_iter().zip(prepared) {
            match result {
                Ok(item) => {
                    ready_owners.push(owner);
                    ready.push(item);
                }
                Err(error) => {
                    failed[owner.0].get_or_insert(error);
                }
            }
        }
    }

    // Inputs of a caller that already failed need not run.
    if failed.iter().any(Option::is_some) {
        let (owners, items): (Vec<Owner>, Vec<E::Prepared>) = ready_owners
            .into_iter()
            .zip(ready)
            .filter(|(owner, _)| failed[owner.0].is_none())
            .unzip();
        ready_owners = owners;
        ready = items;
    }

    let costs: Vec<usize> = ready.iter().map(E::cost).collect();
    for batch in plan_batches(&costs, max_batch, E::RUN_OVERHEAD) {
        // Nor those of a caller whose earlier run failed.
        let batch: Vec<usize> = batch
            .into_iter()
            .filter(|&index| failed[ready_owners[index].0].is_none())
            .collect();
        if batch.is_empty() {
            continue;
        }
        let items: Vec<&E::Prepared> = batch.iter().map(|&index| &ready[index]).collect();
        let result = engine.run(&items).and_then(|outputs| {
            if outputs.len() == batch.len() {
                Ok(outputs)
            } else {
                Err(InferenceError::InvalidModel(format!(
                    "the model answered {} outputs for {} inputs",
                    outputs.len(),
                    batch.len()
                )))
            }
        });
        match result {
            Ok(outputs) => {
                for (&index, output) in batch.iter().zip(outputs) {
                    let (job, position) = ready_owners[index];
                    slots[job][position] = Some(output);
                }
            }
            Err(error) => {
                for &index in &batch {
                    failed[ready_owners[index].0].get_or_insert_with(|| error.clone());
                }
            }
        }
    }

    for ((reply, slots), failure) in replies.into_iter().zip(slots).zip(failed) {
        let answer = match failure {
            Some(error) => Err(error),
            None => slots
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    InferenceError::InvalidModel("an input was left without an output".to_owned())
                }),
        };
        // A caller that stopped waiting is no error.
        let _ = reply.send(answer);
    }
}

/// Groups item indices into runs: sorted by cost (equal costs keep their input order),
/// cut into consecutive runs of at most `max_batch` so that the total — each run's size
/// times its largest cost, plus `run_overhead` per run — is smallest. Uniform inputs give
/// full runs of `max_batch`; a few long texts among short ones get runs of their own
/// rather than making every short one pad to their length.
pub(crate) fn plan_batches(
    costs: &[usize],
    max_batch: usize,
    run_overhead: usize,
) -> Vec<Vec<usize>> {
    let max_batch = max_batch.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&index| costs[index]);
    let n = order.len();
    // best[i]: the cheapest plan of the first i sorted items; start[i]: where its last
    // run begins. Runs are contiguous in sorted order, so a run's largest cost is its
    // last item's.
    let mut best = vec![0usize; n + 1];
    let mut start = vec![0usize; n + 1];
    for end in 1..=n {
        let longest = costs[order[end - 1]];
        let first = end.saturating_sub(max_batch);
        let mut cheapest = usize::MAX;
        for (begin, &before) in best.iter().enumerate().take(end).skip(first) {
            let total = before
                .saturating_add((end - begin).saturating_mul(longest))
                .saturating_add(run_overhead);
            // Strictly cheaper only: on ties the longest run wins.
            if total < cheapest {
                cheapest = total;
                start[end] = begin;
            }
        }
        best[end] = cheapest;
    }
    let mut runs = Vec::new();
    let mut end = n;
    while end > 0 {
        let begin = start[end];
        runs.push(order[begin..end].to_vec());
        end = begin;
    }
    runs.reverse();
    runs
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Every index once, runs capped, costs non-decreasing along the plan.
    fn check_plan(costs: &[usize], max_batch: usize, plan: &[Vec<usize>]) {
        let mut all: Vec<usize> = plan.concat();
        all.sort_unstable();
        assert_eq!(all, (0..costs.len()).collect::<Vec<_>>());
        assert!(
            plan.iter()
                .all(|run| !run.is_empty() && run.len() <= max_batch.max(1))
        );
        let flat: Vec<usize> = plan.concat().iter().map(|&i| costs[i]).collect();
        assert!(flat.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn uniform_inputs_make_full_runs_in_input_order() {
        let costs = vec![12; 70];
        let plan = plan_batches(&costs, 32, 32);
        check_plan(&costs, 32, &plan);
        assert_eq!(
            plan.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![6, 32, 32]
        );
        assert_eq!(plan.concat(), (0..70).collect::<Vec<_>>());
        // Pictures: all cost 0.
        let plan = plan_batches(&[0; 5], 2, 1);
        assert_eq!(plan, vec![vec![0], vec![1, 2], vec![3, 4]]);
    }

    #[test]
    fn batches_are_sorted_by_cost_and_capped() {
        let costs = [7, 3, 9, 3, 1, 12, 5];
        // A large overhead: as few runs as possible (3), then the least padding.
        let plan = plan_batches(&costs, 3, 1000);
        check_plan(&costs, 3, &plan);
        assert_eq!(plan, vec![vec![4, 1, 3], vec![6, 0], vec![2, 5]]);
        // No overhead: padding is all that counts.
        let plan = plan_batches(&costs, 3, 0);
        check_plan(&costs, 3, &plan);
        assert_eq!(
            plan,
            vec![vec![4], vec![1, 3], vec![6], vec![0], vec![2], vec![5]]
        );
    }

    #[test]
    fn a_long_text_does_not_make_short_ones_pad() {
        // 29 short texts and one at the 256-token limit, max batch 32: two runs.
        let mut costs: Vec<usize> = (0..29).map(|i| 8 + i % 15).collect();
        costs.insert(11, 256);
        let plan = plan_batches(&costs, 32, 32);
        check_plan(&costs, 32, &plan);
        assert_eq!(plan.last(), Some(&vec![11]));
        assert!(plan.len() <= 4, "{plan:?}");
        let padded: usize = plan
            .iter()
            .map(|run| run.len() * run.iter().map(|&i| costs[i]).max().unwrap_or(0))
            .sum();
        assert!(padded < 1000, "{padded}"); // one run would pad to 30 × 256 = 7680
    }

    #[test]
    fn plan_of_nothing_is_empty_and_zero_batch_is_one() {
        assert!(plan_batches(&[], 32, 32).is_empty());
        assert_eq!(plan_batches(&[2, 1], 0, 0), vec![vec![1], vec![0]]);
    }

    /// A fake model: output = input * 10; records the batches it ran; fails on input 666.
    struct Fake {
        runs: Arc<Mutex<Vec<Vec<u32>>>>,
    }

    impl Engine for Fake {
        type Input = u32;
        type Prepared = u32;
        type Output = u32;

        fn prepare(&mut self, inputs: Vec<u32>) -> Vec<Result<u32, InferenceError>> {
            inputs
                .into_iter()
                .map(|input| {
                    if input == 13 {
                        Err(InferenceError::InvalidInput("13".to_owned()))
                    } else {
                        Ok(input)
                    }
                })
                .collect()
        }

        fn cost(prepared: &u32) -> usize {
            *prepared as usize
        }

        const RUN_OVERHEAD: usize = 1_000_000;

        fn run(&mut self, batch: &[&u32]) -> Result<Vec<u32>, InferenceError> {
            let batch: Vec<u32> = batch.iter().map(|&&x| x).collect();
            self.runs.lock().unwrap().push(batch.clone());
            if batch.contains(&666) {
                return Err(InferenceError::InvalidModel("666".to_owned()));
            }
            Ok(batch.iter().map(|x| x * 10).collect())
        }
    }

    fn job(
        inputs: Vec<u32>,
    ) -> (
        Job<Fake>,
        oneshot::Receiver<Result<Vec<u32>, InferenceError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        (Job { inputs, reply }, answer)
    }

    #[test]
    fn one_round_batches_callers_together_and_answers_each_in_its_order() {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let mut engine = Fake { runs: runs.clone() };
        let (a, mut answer_a) = job(vec![50, 2, 30]);
        let (b, mut answer_b) = job(vec![1, 40]);
        let (c, mut answer_c) = job(vec![3]);
        process(&mut engine, vec![a, b, c], 4);
        assert_eq!(answer_a.try_recv().unwrap().unwrap(), vec![500, 20, 300]);
        assert_eq!(answer_b.try_recv().unwrap().unwrap(), vec![10, 400]);
        assert_eq!(answer_c.try_recv().unwrap().unwrap(), vec![30]);
        // Two runs over all three callers, shortest first, split where padding is least.
        assert_eq!(*runs.lock().unwrap(), vec![vec![1, 2, 3], vec![30, 40, 50]]);
    }

    #[test]
    fn a_failure_reaches_only_the_callers_concerned() {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let mut engine = Fake { runs: runs.clone() };
        let (bad_input, mut answer_bad_input) = job(vec![1, 13]);
        let (good, mut answer_good) = job(vec![2, 3]);
        let (bad_run, mut answer_bad_run) = job(vec![666]);
        let (unlucky, mut answer_unlucky) = job(vec![700]);
        process(&mut engine, vec![bad_input, good, bad_run, unlucky], 2);
        assert!(matches!(
            answer_bad_input.try_recv().unwrap(),
            Err(InferenceError::InvalidInput(_))
        ));
        assert_eq!(answer_good.try_recv().unwrap().unwrap(), vec![20, 30]);
        assert!(answer_bad_run.try_recv().unwrap().is_err());
        // Shares the failed run with 666.
        assert!(answer_unlucky.try_recv().unwrap().is_err());
        // Input 1 (of a caller already failed at preparation) did not run.
        assert_eq!(*runs.lock().unwrap(), vec![vec![2, 3], vec![666, 700]]);
    }

    #[tokio::test]
    async fn the_thread_serves_async_and_blocking_callers() {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let queue = Queue::start(Fake { runs: runs.clone() }, "fake", 8).unwrap();
        let answers = futures::future::join_all((0..20u32).map(|i| {
            let queue = queue.clone();
            async move { queue.submit(vec![i + 100, i + 20]).await }
        }))
        .await;
        for (i, answer) in (0..20u32).zip(answers) {
            assert_eq!(answer.unwrap(), vec![(i + 100) * 10, (i + 20) * 10]);
        }
        assert!(queue.submit(Vec::new()).await.unwrap().is_empty());
        let blocking = queue.clone();
        let answer = tokio::task::spawn_blocking(move || blocking.submit_blocking(vec![7]))
            .await
            .unwrap();
        assert_eq!(answer.unwrap(), vec![70]);
        assert!(runs.lock().unwrap().iter().all(|run| run.len() <= 8));
    }
}
