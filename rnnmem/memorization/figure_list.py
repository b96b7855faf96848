"""The study's figures, by file stem: the one list the rules and the figures CLI share.

Each figure is written as <stem>.png and <stem>.pdf. The value names the figure of the
paper it reproduces (or the extra figure), which is also the name of its report caption
in workflow/report/memorization/<value>.rst. Imports nothing: the Snakefile reads it.
"""

FIGURES = {
    "fig4_rnn_learning_curves": "fig4",
    "fig4_rnn_learning_curves_full": "fig4",
    "fig5_lstm_learning_curves": "fig5",
    "fig5_lstm_learning_curves_full": "fig5",
    "fig6_rnn_mean_loss": "fig6",
    "fig7_rnn_sd_loss": "fig7",
    "fig8_lstm_gru_mean_loss": "fig8",
    "fig9_rnn_fixed_length": "fig9",
    "loss_histogram": "histogram",
    "memory_capacity": "capacity",
}
