// The live loss / accuracy chart (Chart.js, only the parts a line chart needs).
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

/** A chart of training loss and accuracy per step. */
export class TrainingChart {
  private readonly chart: Chart<'line', { x: number; y: number }[]>;

  constructor(canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'loss',
            data: [],
            borderColor: '#d9480f',
            backgroundColor: '#d9480f',
            yAxisID: 'loss',
            pointRadius: 0,
            borderWidth: 2,
          },
          {
            label: 'batch accuracy',
            data: [],
            borderColor: '#74c0fc',
            backgroundColor: '#74c0fc',
            yAxisID: 'acc',
            pointRadius: 0,
            borderWidth: 1,
          },
          {
            label: 'test accuracy',
            data: [],
            borderColor: '#2b8a3e',
            backgroundColor: '#2b8a3e',
            yAxisID: 'acc',
            pointRadius: 4,
            borderWidth: 2,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' }, min: 0 },
          loss: { type: 'linear', position: 'left', title: { display: true, text: 'loss' }, min: 0 },
          acc: {
            type: 'linear',
            position: 'right',
            title: { display: true, text: 'accuracy' },
            min: 0,
            max: 1,
            grid: { drawOnChartArea: false },
          },
        },
      },
    });
  }

  reset(): void {
    for (const d of this.chart.data.datasets) d.data = [];
    this.chart.update();
  }

  step(step: number, loss: number, accuracy?: number): void {
    this.chart.data.datasets[0]!.data.push({ x: step, y: loss });
    if (accuracy !== undefined) this.chart.data.datasets[1]!.data.push({ x: step, y: accuracy });
    this.chart.update('none');
  }

  evaluation(step: number, accuracy: number): void {
    this.chart.data.datasets[2]!.data.push({ x: step, y: accuracy });
    this.chart.update('none');
  }
}
