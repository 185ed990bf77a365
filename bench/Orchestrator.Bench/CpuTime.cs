using System.Diagnostics;

namespace Orchestrator.Bench;

/// <summary>
/// CPU time used so far by this process and by the PostgreSQL and RabbitMQ processes of the machine (Linux /proc), so a
/// run can say what one transition costs in CPU: a figure that, unlike throughput, another load on the machine does not
/// change much.
/// </summary>
public static class CpuTime
{
    static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public sealed record Sample(TimeSpan Process, TimeSpan Postgres, TimeSpan RabbitMq)
    {
        public static Sample operator -(Sample a, Sample b) => new(a.Process - b.Process, a.Postgres - b.Postgres, a.RabbitMq - b.RabbitMq);

        public static Sample operator +(Sample a, Sample b) => new(a.Process + b.Process, a.Postgres + b.Postgres, a.RabbitMq + b.RabbitMq);

        /// <summary>Every process counted: this one (with whatever it hosts), PostgreSQL's and RabbitMQ's.</summary>
        public TimeSpan Total => Process + Postgres + RabbitMq;
    }

    public static Sample Now()
    {
        var postgres = TimeSpan.Zero;
        var rabbit = TimeSpan.Zero;
        if (Directory.Exists("/proc"))
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out _))
                    continue;
                try
                {
                    var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                    // pid (comm) state ppid ... utime stime: fields 14 and 15, counted after the closing parenthesis.
                    var close = stat.LastIndexOf(')');
                    var name = stat[(stat.IndexOf('(') + 1)..close];
                    var fields = stat[(close + 2)..].Split(' ');
                    var used = TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond);
                    if (name == "postgres")
                        postgres += used;
                    else if (name == "beam.smp")
                        rabbit += used;
                }
                catch (IOException)
                {
                    // The process ended while it was read.
                }
            }
        }
        return new Sample(Process.GetCurrentProcess().TotalProcessorTime, postgres, rabbit);
    }
}
