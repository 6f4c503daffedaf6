using BenchmarkDotNet.Running;

// Every benchmark class in this assembly, chosen on the command line, e.g.
//   dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- --filter '*Memory*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
