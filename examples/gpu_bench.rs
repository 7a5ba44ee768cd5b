//! Throughput of every available backend against the number of chains.
//!
//! ```text
//! cargo run --release --example gpu_bench -- [--warmup 200] [--draws 200] [--max-chains 65536]
//!     [--min-chains 1] [--chains 1,256,4096] [--model eight_schools_noncentered]
//!     [--mapping auto|invocation|workgroup] [--backend cpu|gpu] [--adaptation pooled]
//!     [--data ../shared/peers/data] [--no-reference] [--device-groups 1]
//! ```
//! For K = 1, 16, 256, 4096, 65536, 262144 chains (between `--min-chains` and `--max-chains`,
//! or the list `--chains`) on seed_simple, eight_schools_noncentered and gaussian_100d (built
//! inline, same data as ../shared/peers), and with `--data DIR` also radon_varying_intercept and
//! logistic_regression (from `DIR/<model>.json`, the peer harness's data):
//! leapfrog steps/s, gradient evaluations/s (leapfrog steps plus initialisation) and
//! ESS_bulk/s (minimum bulk ESS over all scalars ÷ wall time of warmup + draws), per backend:
//! the CPU backend, and the GPU backend on the default adapter (Mesa lavapipe on a machine
//! without a GPU) when one exists. Configurations whose state exceeds the adapter's storage
//! binding limit are reported with the largest chain count that fits. The GPU rows name the
//! thread mapping the backend chose (or was given with `--mapping`), and the number of device
//! groups ([`Sampler::device_groups`]) when `--device-groups` asks for more than one. Two
//! columns split the host's part of the time: the host loop (`DriveCounters::host_s`: the
//! chains' state machines, adaptation, records; thread-seconds summed over groups) and the
//! backend's own host work inside its steps (`DriveCounters::backend_host_s`: encoding
//! commands, decoding reports and draws; zero on the CPU backend).
//!
//! On the GPU it also times the issue's yardstick, a hand-written fused eight-schools leapfrog
//! kernel (`examples/common/reference_leapfrog.wgsl`: no NUTS bookkeeping, 4 bytes read back
//! per chain), at the same chain counts, so the NUTS step kernel's rate can be read as a ratio
//! of it measured in the same run.

use std::time::Instant;

use exmc::backend::gpu::Gpu;
use wgpu::util::DeviceExt;
#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/models.rs"]
mod models;
#[path = "common/peer_models.rs"]
mod peer_models;
use args::arg;
use exmc::prelude::*;

/// Gradient evaluations per second of the reference leapfrog kernel at `chains` chains: the
/// median over 20 dispatches (after 3 warm-ups), each submitted and waited for with its
/// 4-byte-per-chain read-back, as the NUTS step kernel's are.
fn reference_rate(gpu: &Gpu, chains: u32) -> f64 {
    let dev = gpu.device();
    let src = include_str!("common/reference_leapfrog.wgsl").replace("KK", &chains.to_string());
    let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: None,
        source: wgpu::ShaderSource::Wgsl(src.into()),
    });
    let pipe = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: None,
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let init: Vec<f32> = (0..36 * chains as usize).map(|i| 0.1 * (i % 7) as f32 - 0.3).collect();
    let st = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&init),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let bytes = 4 * u64::from(chains);
    let buffer = |usage| {
        dev.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: bytes,
            usage,
            mapped_at_creation: false,
        })
    };
    let out = buffer(wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
    let read = buffer(wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ);
    let bind = dev.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipe.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: st.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: out.as_entire_binding() },
        ],
    });
    let mut times = Vec::new();
    for rep in 0..23 {
        let t0 = Instant::now();
        let mut enc = dev.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipe);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(chains.div_ceil(64), 1, 1);
        }
        enc.copy_buffer_to_buffer(&out, 0, &read, 0, bytes);
        gpu.queue().submit([enc.finish()]);
        let slice = read.slice(..);
        slice.map_async(wgpu::MapMode::Read, |_| {});
        dev.poll(wgpu::PollType::wait_indefinitely()).expect("device lost");
        drop(slice.get_mapped_range().expect("mapped"));
        read.unmap();
        if rep >= 3 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    f64::from(chains) / times[times.len() / 2]
}

fn main() -> Result<()> {
    let (warmup, draws, max_chains) = (arg("--warmup", 200), arg("--draws", 200), arg("--max-chains", 65536));
    let mut backends = vec![(BackendChoice::Cpu, format!("cpu ({} threads)", rayon::current_num_threads()))];
    let gpu = Gpu::new();
    match &gpu {
        Ok(g) => backends.push((BackendChoice::Gpu, format!("gpu f32 ({})", g.name()))),
        Err(e) => println!("no GPU backend: {e}"),
    }
    if let Some(only) = args::value("--backend") {
        backends.retain(|(_, label)| label.starts_with(&only));
    }
    let min_chains = arg("--min-chains", 1);
    let ks: Vec<usize> = match args::value("--chains") {
        Some(list) => list.split(',').filter_map(|k| k.trim().parse().ok()).collect(),
        None => [1usize, 16, 256, 4096, 65536, 262_144]
            .into_iter()
            .filter(|&k| (min_chains..=max_chains).contains(&k))
            .collect(),
    };
    let only = args::value("--model");
    let mapping = args::mapping();
    let device_groups = arg("--device-groups", 1);
    let adaptation = match args::value("--adaptation").as_deref() {
        Some("pooled") => Adaptation::Pooled,
        Some("windowed") => Adaptation::Windowed,
        _ => Adaptation::DrawGradient,
    };
    let mut all = models::models();
    if let Some(dir) = args::value("--data") {
        for name in ["radon_varying_intercept", "logistic_regression"] {
            let path = std::path::Path::new(&dir).join(format!("{name}.json"));
            let data = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
            match data.map(|d| peer_models::build(name, &d)) {
                Some(Ok(m)) => all.push((name, m)),
                _ => println!("skipped {name}: {} not readable", path.display()),
            }
        }
    }
    // The yardstick runs with the GPU backend's rows (not for `--backend cpu`).
    let reference = std::env::args().all(|a| a != "--no-reference")
        && backends.iter().any(|(c, _)| *c == BackendChoice::Gpu);
    if let (Ok(g), true) = (&gpu, reference) {
        println!("Reference: hand-written fused eight-schools leapfrog kernel on {}\n", g.name());
        println!("| chains | grad evals/s |");
        println!("|---:|---:|");
        for &k in &ks {
            println!("| {k} | {:.3e} |", reference_rate(g, k as u32));
        }
        println!();
    }
    println!("{warmup} warmup + {draws} draws per chain, {adaptation:?} adaptation\n");
    println!(
        "| model | backend | chains | wall s | leapfrog steps/s | grad evals/s | ESS_bulk/s | host loop s | backend host s | dispatches |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, m) in all.into_iter().filter(|(n, _)| only.as_deref().is_none_or(|o| o == *n)) {
        for (choice, label) in &backends {
            for &chains in &ks {
                let s = Sampler::new(&m)
                    .chains(chains)
                    .warmup(warmup)
                    .draws(draws)
                    .seed(1)
                    .adaptation(adaptation)
                    .backend(*choice)
                    .gpu_mapping(mapping)
                    .device_groups(device_groups)
                    .progress(false);
                match s.run() {
                    Ok(fit) => {
                        let (a, b) = fit.trace.leapfrog_steps();
                        let steps = (a + b) as f64;
                        let t = fit.timing.sampling_s;
                        let ess = if chains * draws >= 8 { fit.min_ess_bulk() } else { f64::NAN };
                        // The GPU backend's description ends with its thread mapping.
                        let label = match fit.backend.rsplit_once("; ") {
                            Some((_, m)) => format!("{label}, {}", m.trim_end_matches(')')),
                            None => label.clone(),
                        };
                        let label = match device_groups {
                            1 => label,
                            n => format!("{label}, {n} device groups"),
                        };
                        println!(
                            "| {name} | {label} | {chains} | {t:.3} | {:.3e} | {:.3e} | {:.3e} | {:.3} | {:.3} | {} |",
                            steps / t,
                            (steps + chains as f64) / t,
                            ess / t,
                            fit.counters.host_s,
                            fit.counters.backend_host_s,
                            fit.counters.dispatches
                        );
                    }
                    Err(e) => println!("| {name} | {label} | {chains} | – | – | – | – | – | – | {e} |"),
                }
            }
        }
    }
    Ok(())
}
