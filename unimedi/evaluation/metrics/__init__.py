from .auc import MultiLabelAUC, roc_auc
from .multi_class import MultiClassMetric
from .retrieval import RetrievalRecall, recall_at_k
from .seg_dice import SegDiceMetric, dice_per_class

__all__ = ['MultiLabelAUC', 'MultiClassMetric', 'roc_auc', 'RetrievalRecall', 'recall_at_k',
           'SegDiceMetric', 'dice_per_class']
