using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Every benchmark class in this assembly, chosen on the command line, e.g.
//   dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- --filter '*Memory*'
// The median is always shown: docs/benchmarks.md quotes medians.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.AddColumn(StatisticColumn.Median));
