// A node's metrics over a span, one line chart per metric (avg, with max), from
// GET /nodes/:name/metrics. Its own chunk: only the node page loads the chart library.
import Box from '@mui/material/Box';
import Grid from '@mui/material/Grid';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { LineChart } from '@mui/x-charts/LineChart';
import type { MetricSeries, MetricsHistory } from '../../../proto/rest/metrics';
import { formatBytes } from '../lib/format';

const TITLES: Record<string, string> = {
  cpu: 'CPU', mem: 'Memory used', load1: 'Load (1 min)', disk: 'Disk used (fullest mount)', netRx: 'Network received', netTx: 'Network sent',
};

function valueText(unit: string, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (unit === 'B/s') return `${formatBytes(v)}/s`;
  if (unit === '%') return `${v.toFixed(1)} %`;
  return unit ? `${v.toFixed(2)} ${unit}` : v.toFixed(2);
}

function Chart({ series, spanHours, spanLabel }: { series: MetricSeries; spanHours: number; spanLabel: string }) {
  // A few points are dots, not an invisible line of one point.
  const showMark = series.points.length < 30;
  const title = TITLES[series.metric] ?? series.metric;
  const x = series.points.map((p) => new Date(p.at));
  const last = series.points.at(-1);
  const timeFormat = (d: Date) => (spanHours > 24
    ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
    : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }));
  return (
    <Paper variant="outlined" sx={{ p: 1.5 }} data-testid={`chart-${series.metric}`}>
      <Typography variant="subtitle2" component="h3">{title}{last ? `: ${valueText(series.unit, last.avg)}` : ''}</Typography>
      {series.points.length === 0 ? (
        <Typography variant="body2" color="text.secondary" sx={{ py: 4 }}>No samples in this span.</Typography>
      ) : (
        <Box role="img" aria-label={`${title} over the last ${spanLabel}, ${series.points.length} points, latest ${valueText(series.unit, last?.avg ?? null)}`}>
          <LineChart
            height={200}
            margin={{ left: 8, right: 12, top: 12, bottom: 8 }}
            xAxis={[{ data: x, scaleType: 'time', valueFormatter: timeFormat }]}
            yAxis={[{ valueFormatter: (v: number | null) => valueText(series.unit, v), width: 72, ...(series.unit === '%' ? { min: 0, max: 100 } : { min: 0 }) }]}
            series={[
              { data: series.points.map((p) => p.avg), label: 'avg', showMark, valueFormatter: (v) => valueText(series.unit, v) },
              { data: series.points.map((p) => p.max), label: 'max', showMark, valueFormatter: (v) => valueText(series.unit, v) },
            ]}
            hideLegend
          />
        </Box>
      )}
    </Paper>
  );
}

export default function MetricCharts({ history, spanHours, spanLabel }: { history: MetricsHistory; spanHours: number; spanLabel: string }) {
  return (
    <Grid container spacing={2}>
      {history.metrics.map((s) => (
        <Grid key={s.metric} size={{ xs: 12, md: 6 }}><Chart series={s} spanHours={spanHours} spanLabel={spanLabel} /></Grid>
      ))}
    </Grid>
  );
}
